; Data alone 4 times the SRAM can never fit: the walk stops at the item that gets there. A `.rep`
; of 2,000,000 data items used to run to its end first (found by fuzzing: 15 s and 1.1 GB for a
; five-line source, for the same error).
.fabric 1, 1
.program big
    .task main, local, start
main:
    exit
    .data
    .rep 2000000
    .f32 1.0, 2.0   ; error: program `big` does not fit in SRAM on PE (0, 0): with this item its data alone is 98308 words, more than 4 times the 24576 words (49152 bytes) of a wse2 PE, so the assembler stopped here
                    ; note: program `big` is declared at tests/asm/err_data_far_past_sram.s:5:10
                    ; note: make the arrays smaller
                    ; note: in iteration 24576 of the `.rep`
    .endr
.endprogram
.place big, 0, 0
;@ errors 1
