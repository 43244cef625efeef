.fabric 2, 2
.program p
    exit
.endprogram
.place p, 0, 0, 2, 1
.place p, 1, 0                  ; error: PE (1, 0) is placed twice
