; allreduce.s: every PE of a W x H rectangle ends with the sum (or max) of all PEs' vectors.
; Defines used by the objdump round-trip test (tests/asm/test_roundtrip.py):
;@ define W=4
;@ define H=3
;@ define N=5
;@ define OP=1
;@ define SCHEME=1
;@ define SEGX=2
;@ define SEGY=2
;
; Defines: W, H, N, OP, SCHEME, SEGX, SEGY exactly as in reduce.s.
;
; Layout: the reduce of reduce.s to (0, 0) (colors 0-15), then a broadcast of the result from
; (0, 0) (color 16): East along row 0, and South from every PE of row 0
; ((0,0): ramp -> east|south, (x,0): west -> ramp|east|south, (x,y>0): north -> ramp|south).
;
; Tasks: main (local, activated at load): the reduce steps, then (0, 0) sends vec on color
;        16 and every other PE receives it into vec; all synchronous; then exit. A PE reaches
;        its broadcast receive only after its own reduce steps, and wavelets that arrive
;        earlier wait in its input queue (back-pressure), so the two phases need no barrier.
; DSRs: d1, a1, b1.
; Memory map: vec fp32[N]: the input (host), the result on every PE after the run.
.ifndef W
.error "define W, H, N, OP, SCHEME (and SEGX, SEGY for the two-phase scheme)"
.endif
.ifndef SEGX
SEGX = 1
.endif
.ifndef SEGY
SEGY = 1
.endif
.include "collectives.inc"
C_B = 16

.fabric W, H

.program allreduce
    .task main, local, start
    .dsd dvec, mem1d, base=vec, len=N
    bcast_routes C_B, W, H
main:
    line_reduce pe_x, W, SCHEME, SEGX, 0, 0
    .if pe_x == 0
    line_reduce pe_y, H, SCHEME, SEGY, 8, 1
    .endif
    bcast_code C_B, W, H
    exit

    .data
vec: .zero N, f32
    .export vec
.endprogram

.place allreduce, 0, 0, W, H
