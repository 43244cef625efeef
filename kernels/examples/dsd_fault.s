; dsd_fault.s: a deliberately faulting program, to show how wse-emu's fault report names the
; DSD each DSR was loaded from.
;
;   wse-as kernels/examples/dsd_fault.s -o dsd_fault.wso
;   wse-emu dsd_fault.wso                    # exits 1: a DSD length mismatch
;
; main adds row 1 of a 2x4 matrix into acc. The macro `row` loads the matrix's first row
; (d_row), moves it on to row R with dsdaddi and sets its length with dsdlen, but it is given
; 3, not 4: the fadds faults, and the report says which DSD b1 was loaded from, by which ldsd
; (in which expansion of `row`), and what changed it since.
;
; Layout: `p` on PE (0,0). Memory: `acc` (4 x f32), `mat` (2 x 4 x f32).
.fabric 1, 1

.program p
    .task main, local, start
    .dsd d_acc, mem1d, base=acc, len=4
    .dsd d_row, mem1d, base=mat, len=4
.macro row, DSR, R, N
    ldsd DSR, d_row
    dsdaddi DSR, 8 * R            ; a row is 4 f32 elements: 8 words
    li r1, N
    dsdlen DSR, r1
.endm
main:
    ldsd d0, d_acc
    ldsd a0, d_acc
    row b1, 1, 3                  ; the bug: a row has 4 elements
    fadds d0, a0, b1
    exit
    .data
acc: .f32 0.0, 0.0, 0.0, 0.0
mat: .f32 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0
    .export acc
.endprogram

.place p, 0, 0
