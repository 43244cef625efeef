; A program parameter named like a top-level constant was silently hidden by it: the value
; given at .place (9) was dropped and the constant (4) used.
;@ errors 1
.fabric 1, 1
N = 4
.program p, N = 2               ; error: parameter `N` of program `p` has the name of the top-level constant at
                                ; note: rename the parameter or the constant
    .task main, local, start
main:
    exit
    .data
v:  .u16 N
    .export v
.endprogram
.place p, 0, 0, N = 9
