.program p
    exit
.endprogram
.program p                      ; error: program `p` is already defined
    exit
.endprogram
.place p, 0, 0
