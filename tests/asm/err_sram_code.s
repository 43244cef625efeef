; Code alone larger than SRAM, in a program of a layout: the error is at the first instruction
; past the end (the one of .rep iteration 12288), and a note names the `.program`.
.fabric 2, 1
.program long
    .task main, local, start
main:
    .rep 12300
    nop                         ; error: program `long` does not fit in SRAM on PE (0, 0): it needs 24604 words, 28 more than the 24576 words (49152 bytes) of a wse2 PE; the code alone is 24602 words (12301 instructions), and this instruction, pc 12288, is the first past the end
                                ; note: in iteration 12288 of the `.rep` at tests/asm/err_sram_code.s:7:5
                                ; note: program `long` is declared at tests/asm/err_sram_code.s:4:10
                                ; note: make the code shorter
    .endr
    exit
    .data
x:  .f32 1.0
.endprogram
.place long, 0, 0
;@ errors 1
