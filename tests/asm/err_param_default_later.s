; A program parameter's default can use only the parameters listed before it.
.program p, N, M = K * 2, K = 3 ; error: the default of `M` uses `K`, a parameter listed after it
                                ; note: a default can use only the parameters listed before it in program `p`: list `K` before `M`
                                ; note: the default of `M`, for the `.place` at
    exit
.endprogram
.program q, A = A + 1           ; error: the default of `A` uses `A` itself
    exit
.endprogram
.program r, B = pe_x            ; error: `pe_x` is a per-PE value
                                ; note: a default is one value for the whole `.place`
    exit
.endprogram
.fabric 3, 1
.place p, 0, 0, N = 1
.place q, 1, 0
.place r, 2, 0
;@ errors 3
