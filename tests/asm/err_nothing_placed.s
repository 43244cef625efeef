.program p                      ; error: nothing is placed
    exit
.endprogram
