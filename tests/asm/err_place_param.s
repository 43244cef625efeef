.program p, N
    addi r1, r0, N
.endprogram
.place p, 0, 0, M=3             ; error: program `p` has no parameter `M`
