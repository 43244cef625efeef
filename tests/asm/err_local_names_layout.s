; A constant declared inside a top-level `.rep` is local to each iteration too, for the layout
; and for the programs.
    .rep 1
W = 2
    .endr
.program p
    li r1, W                    ; error: unknown symbol `W`
                                ; note: `W` was declared inside the `.rep` at
    exit
.endprogram
.place p, 0, 0
;@ errors 1
