    addi r1, r0, 70000          ; error: out of range
    nop
    bogus r1                    ; error: unknown instruction `bogus`
    ori r1, r1, -2              ; error: out of range
    .f16 1.0                    ; error: belongs in the data section
;@ errors 4
