.program p, N
    addi r1, r0, N
.endprogram
.place p, 0, 0                  ; error: program `p` needs the parameter `N`
