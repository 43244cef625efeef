; allreduce.s: every PE of a W x H rectangle ends with the sum (or max) of all PEs' vectors.
; Defines used by the objdump round-trip test (tests/asm/test_roundtrip.py):
;@ define W=4
;@ define H=3
;@ define N=5
;@ define OP=1
;@ define SCHEME=1
;@ define SEGX=2
;@ define SEGY=2
;@ define RX=2
;@ define RY=1
;
; Defines: W, H, N, OP, SCHEME, SEGX, SEGY, RX, RY exactly as in reduce.s.
;
; Layout: the reduce of reduce.s to the root (RX, RY) (collectives.inc, reduce_to_root; colors
; 0-15 for the root (0, 0)), then a broadcast of the result from the root (color C_BC, 16 for
; the root (0, 0)): East and West along row RY, and North and South from every PE of row RY
; (collectives.inc, bcast_routes).
;
; Tasks: main (local, activated at load): the reduce steps, then the root sends vec on color
;        C_BC and every other PE receives it into vec; all synchronous; then exit. A PE reaches
;        its broadcast receive only after its own reduce steps, and wavelets that arrive
;        earlier wait in its input queue (back-pressure), so the two phases need no barrier.
; DSRs: d1, a1, b1.
; Memory map: vec fp32[N]: the input (host), the result on every PE after the run.
.ifndef W
.error "define W, H, N, OP, SCHEME (and SEGX, SEGY for the two-phase scheme)"
.endif
.include "collectives.inc"
.if C_BC > 23
    .error "this tree all-reduce needs more than the 24 colors (ceil(log2) of each side of the root, per phase, and one to broadcast): use the chain or two-phase scheme, or a root nearer a corner"
.endif

.fabric W, H

.program allreduce
    .task main, local, start
    .dsd dvec, mem1d, base=vec, len=N
    bcast_routes C_BC, W, H, RX, RY
main:
    reduce_to_root
    bcast_code C_BC, W, H, RX, RY
    exit

    .data
vec: .zero N, f32
    .export vec
.endprogram

.place allreduce, 0, 0, W, H
