; inside a program, per PE: the PE whose check fails stops there (its later errors follow from
; it), reported once with the PE it was assembled for
.fabric 3, 1
.program p
    .if pe_x == 2
    .error "this program needs an even x"   ; error: this program needs an even x
    .endif
    .task main, local, start
main:
    exit
.endprogram
.place p, 0, 0, 3, 1
;@ errors 1
