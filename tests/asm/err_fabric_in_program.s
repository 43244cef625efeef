.program p
    .fabric 2, 2                ; error: `.fabric` is only allowed at the top level
    exit
.endprogram
.place p, 0, 0
