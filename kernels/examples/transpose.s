; transpose.s: B = A^T on one PE with a single tensor op: a mem4d source walks A column by
; column.
;
;   wse-as kernels/examples/transpose.s -o tr.wso -D R=3 -D C=5
;   wse-emu tr.wso --input A=a.npy --output B=b.npy      (a.npy: R*C fp32, A row-major)
;
;@ define R=3
;@ define C=5
;
; Defines: R, C: A is R x C, row-major; B = A^T is C x R, row-major.
; Layout:  one PE (a plain program `main` on a 1x1 fabric). No colors.
; Tasks:   main (local, activated at load): fmovs B <- A^T; exit.
; DSDs:    dst  mem1d  B, R*C elements in order;
;          src  mem4d  A, len=[R, C], stride=[C, 1]: dimension 0 (fastest) walks down a
;               column of A (stride C elements), dimension 1 steps to the next column, so
;               element k = j*R + i of the walk is A[i, j] = B[j, i].
;          The source is not unit-stride, so the op runs at one element per cycle.
; Memory:  A f32[R*C] (host), B f32[R*C] (the result).
.ifndef R
.error "define R and C (see the header)"
.endif

    .task main, local, start
    .dsd dst, mem1d, base=B, len=R * C
    .dsd src, mem4d, base=A, len=[R, C], stride=[C, 1]
main:
    ldsd d0, dst
    ldsd a0, src
    fmovs d0, a0
    exit

    .data
A: .zero R * C, f32
B: .zero R * C, f32
    .export A, B
