; A constant declared inside a top-level `.rep` is not visible after it.
    .rep 1
W = 2
    .endr
.fabric W, 1                    ; error: unknown symbol `W`
                                ; note: `W` was declared inside the `.rep` at
.program p
    exit
.endprogram
.place p, 0, 0
;@ errors 1
