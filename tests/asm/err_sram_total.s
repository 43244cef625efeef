; Code and data that do not fit in SRAM together: the error is at the item that reaches past
; the end (not at this comment on line 1), says by how much, and what takes the space.
    .task main, local, start
main:
    exit
    .data
a:  .space 20000
b:  .space 20000                ; error: program `main` does not fit in SRAM on PE (0, 0): it needs 40002 words, 15426 more than the 24576 words (49152 bytes) of a wse2 PE; `b` (`.space`, 20000 words at 20002..40001) reaches past the end, word 24575
                                ; note: the space: 2 words of code (1 instruction) and 40000 words of data; the largest: `a` 20000 words (tests/asm/err_sram_total.s:7:1), `b` 20000 words
                                ; note: spread the data over more PEs
;@ errors 1
