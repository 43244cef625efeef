; bcast.s: broadcast (multicast) the fp32 vector of the root PE (RX, RY) (default (0, 0)) to
; every PE of a W x H
; Defines used by the objdump round-trip test (tests/asm/test_roundtrip.py):
;@ define W=4
;@ define H=3
;@ define N=5
; rectangle (H = 1: a row, W = 1: a column).
;
; Defines: W, H, N (elements), RX, RY (the root, default 0, 0).
;
; Layout: one color, C_B = 0, and one wavelet per element: the root's CE sends each element
; once and the routers copy it (multicast) East and West along row RY, and North and South from
; every PE of row RY (collectives.inc, bcast_routes). With the root (0, 0):
;
;   (0,0) -> (1,0) -> (2,0)      (0,0): ramp -> east|south
;     v        v        v        (x,0): west -> ramp|east|south  (the last column: no east)
;   (0,1)    (1,1)    (2,1)      (x,y): north -> ramp|south      (the last row: no south)
;
; Tasks: main (local, activated at load): the root sends vec (fmovs to a fabout DSD), every
;        other PE receives N wavelets into vec (fmovs from a fabin DSD); then exit.
; DSRs: d1, a1.
; Memory map: vec fp32[N]: the root's input (host); every PE's copy after the run.
.ifndef W
.error "define W, H and N"
.endif
OP = 0
.include "collectives.inc"
C_B = 0

.fabric W, H

.program bcast
    .task main, local, start
    .dsd dvec, mem1d, base=vec, len=N
    bcast_routes C_B, W, H, RX, RY
main:
    bcast_code C_B, W, H, RX, RY
    exit

    .data
vec: .zero N, f32
    .export vec
.endprogram

.place bcast, 0, 0, W, H
