; Code alone 4 times the SRAM can never fit: the walk stops there, with the error at the first
; instruction past the end. A `.rep` of 2,000,000 instructions used to run to its end first
; (found by fuzzing: 25-45 s and 1.7 GB for a three-line source, for the same error).
    .rep 2000000
    nop         ; error: does not fit in SRAM on PE (0, 0): its code alone is more than 98304 words (49152 instructions), 4 times the 24576 words (49152 bytes) of a wse2 PE, so the assembler stopped there; this instruction, pc 12288, is the first past the end
                ; note: make the code shorter
                ; note: in iteration 12288 of the `.rep` at tests/asm/err_code_far_past_sram.s:4:5
    .endr
;@ errors 1
