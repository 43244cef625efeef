;@ define WIDE=1
.if WIDE
.fabric 4, 1
.else
.fabric 1, 1
.endif
.program p
    exit
.endprogram
.place p, 0, 0, 4, 1
;@ fabric 4 1
