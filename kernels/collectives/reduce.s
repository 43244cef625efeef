; reduce.s: reduce (sum or max) the fp32 vectors of a W x H rectangle of PEs to the root PE
; (RX, RY), (0, 0) by default.
; Defines used by the objdump round-trip test (tests/asm/test_roundtrip.py):
;@ define W=4
;@ define H=3
;@ define N=5
;@ define OP=0
;@ define SCHEME=2
;@ define SEGX=2
;@ define SEGY=2
;
; Defines:
;   W, H     the rectangle (H = 1: a row; W = 1: a column)
;   N        elements per PE
;   OP       0 = sum (fadds), 1 = max (fmaxs)
;   SCHEME   0 = chain, 1 = binary tree, 2 = two-phase (collectives.inc explains each)
;   SEGX, SEGY  two-phase segment lengths along rows / the column (ignored otherwise)
;   RX, RY   the root (default 0, 0)
;
; Layout: first every row reduces to its PE in column RX with the chosen scheme, then column
; RX reduces to (RX, RY) with the same scheme (collectives.inc, reduce_to_root, which
; allreduce.s uses too, and root_reduce: each line is cut at the root, and its two sides
; reduce toward it at once). The row phase uses colors 0 .. NCX-1,
; the column phase CBY .. CBY+NCY-1 (collectives.inc's color plan; with the root at (0, 0):
; 0-7 on West-bound links and 8-15 on North-bound links of column 0), so the two phases never
; share a route. A phase needs 2 (chain), 4 (two-phase) or ceil(log2 (P-R)) + ceil(log2 (R+1))
; (tree) colors.
;
;   (0,0) <- (1,0) <- (2,0) <- (3,0)        chain, W = 4, H = 2: the rows first ...
;     ^
;   (0,1) <- (1,1) <- (2,1) <- (3,1)        ... then column 0
;
; Tasks: main (local, activated at load): the PE's part of the row phase, then (column 0 only)
;        of the column phase, all synchronous fabric tensor ops; then exit.
; DSRs:  d1, a1, b1.
; Memory map: vec fp32[N]: the input (host); on the root the result after the run. The other
;        PEs' vec holds their partial results (undefined for the caller).
.ifndef W
.error "define W, H, N, OP, SCHEME (and SEGX, SEGY for the two-phase scheme)"
.endif
.include "collectives.inc"
.if CBY + NCY > 24
    .error "this tree reduce needs more than the 24 colors (ceil(log2) of each side of the root, per phase): use the chain or two-phase scheme, or a root nearer a corner"
.endif

.fabric W, H

.program reduce
    .task main, local, start
    .dsd dvec, mem1d, base=vec, len=N
main:
    reduce_to_root
    exit

    .data
vec: .zero N, f32
    .export vec
.endprogram

.place reduce, 0, 0, W, H
