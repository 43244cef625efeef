; The same with a -D define of the parameter's name.
;@ define N=7
;@ errors 1
.fabric 1, 1
.program p, N = 2               ; error: parameter `N` of program `p` has the name of the define -D N
    .task main, local, start
main:
    exit
.endprogram
.place p, 0, 0, N = 9
