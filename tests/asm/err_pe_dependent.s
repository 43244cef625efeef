.fabric 3, 1
.program p
    addi r1, r0, 100 / (2 - pe_x)   ; error: division by zero
                                    ; note: while assembling program `p` for PE (2, 0)
    exit
.endprogram
.place p, 0, 0, 3, 1
