    nop                         ; error: program `main` does not fit in SRAM on PE (0, 0): it needs 40002 words
    .data
a:  .space 20000
b:  .space 20000
