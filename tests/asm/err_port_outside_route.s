; A port name means something only in a route's RX -> TX; outside it the error says so (it used
; to say "unknown symbol `east`; did you mean `east`?").
;@ errors 1
.program p
    OUTS = (pe_x < 2 ? east : 0) | 16   ; error: `east` is a port name, which means something only inside a `.route`'s RX -> TX
    .route 1, west -> OUTS
    .task main, local, start
main:
    exit
.endprogram
.place p, 0, 0
