.fabric 2, 2
.program p
    exit
.endprogram
.place p, 1, 1, 2, 2            ; error: does not fit the 2x2 fabric
