.fabric 3, 3
.program p
    exit
.endprogram
.place p, 0, 0
.place p, 2, 2
;@ images 1
;@ placement [(0, 0, 1, 1, 0), (2, 2, 1, 1, 0)]
