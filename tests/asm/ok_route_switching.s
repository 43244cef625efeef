; Layouts the route and send warnings must leave alone (this file has no warning): routes
; whose switch positions take turns, ports off the edge of the fabric (to and from the host),
; and sends in code that may not run on every PE of a program.
.fabric 5, 3

; Row 0: a broadcast East, then the same color turned around West by a control wavelet (as in
; kernels/examples/bcast_switch.s). Position 0 of the middle PEs sends East to a neighbour that
; takes West in position 0; position 1 sends West to one that takes East only in position 1.
C_ROW = 5
T_DONE = 1
.program row
    .if pe_x == 0
    .route C_ROW, ramp -> east, east -> ramp
    .task main, local, start
    .task ack, data, color=C_ROW
main:
    addi r2, r0, T_DONE
    send C_ROW, r1
    sendc C_ROW, r2
    exit
ack:
    exit
    .elif pe_x < rect_w - 1
    .route C_ROW, west -> ramp | east, east | ramp -> west
    .else
    .route C_ROW, west -> ramp, ramp -> west
    .endif
    .if pe_x > 0
    .task got, data, color=C_ROW
    .task done, control, id=T_DONE
got:
    exit
done:                               ; activated by the control wavelet: answers West
    send C_ROW, r1
    exit
    .endif
.endprogram
.place row, 0, 0, 4, 1

; Column 4, rows 0-1: (4, 1) takes color 2 from the North in position 0 and from the West in
; position 1, after the control wavelet of (4, 0) has switched it. Which position is current
; when the wavelets of (3, 1) come depends on the run, not on the source: the assembler warns
; only about a route no position of which accepts the port. East of (4, 1) is off the fabric
; (to the host).
T_SW = 3
.program ctl
    .route 2, ramp -> south
    .task main, local, start
main:
    addi r2, r0, T_SW
    sendc 2, r2
    exit
.endprogram
.program tx1
    .route 2, ramp -> east
    .task main, local, start
main:
    send 2, r1
    exit
.endprogram
.program rx1
    .route 2, north -> ramp, west -> ramp | east
    .task sw, control, id=T_SW
    .task got, data, color=2
sw:
    exit
got:
    exit
.endprogram
.place ctl, 4, 0
.place tx1, 3, 1
.place rx1, 4, 1

; Row 2: one program on the whole row; only PE (0, 2) routes color 7 out of its RAMP and only
; its `main` activates `flush`, which sends on 7. The other PEs declare `flush` too, but no
; task of theirs that surely runs (`start`, a data task fed by a route, `activate`) reaches
; it: it is not judged there. The West edge of (0, 2) takes wavelets from the host.
.program chain
    .if pe_x == 0
    .route 7, ramp | west -> east
    .else
    .route 7, west -> ramp
    .endif
    .task main, local, start
    .task flush, local
main:
    .if pe_x == 0
    activate flush
    .endif
    exit
flush:
    send 7, r1
    exit
.endprogram
.place chain, 0, 2, 2, 1

; A send in code that no task reaches does not run, and a route that nothing can enter (RX
; empty in every position) sends nothing, wherever its TX points.
.program idle
    .route 9, 0 -> north | east
    send 11, r1
.endprogram
.place idle, 2, 2
