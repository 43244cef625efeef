; at the top level of a layout too: one error for a missing define, not one per use
.ifndef P
.error "define P"               ; error: define P
.endif
.fabric P, 1
.program row
    .task main, local, start
main:
    addi r1, r0, P
    exit
.endprogram
.place row, 0, 0, P, 1
;@ errors 1
