; a `.error` that fires stops the assembly there: the uses of N below would each add an
; "unknown symbol `N`" error that only repeats what the guard says
.ifndef N
.error "define N with -D N=..."  ; error: define N with -D N=...
.endif
    .task main, local, start
    .dsd v, mem1d, base=buf, len=N
main:
    addi r1, r0, N
    exit
    .data
buf: .zero N, f32
;@ errors 1
