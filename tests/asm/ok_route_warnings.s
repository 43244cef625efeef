; Warnings that need the whole layout: a route whose TX sends to a neighbour with no program,
; or to a neighbour whose route for the color never accepts the port facing the sender; and a
; send on a color whose route never takes the RAMP in RX. The emulator faults on each only
; when the first wavelet goes that way. Each is reported once for all the PEs that have it.
.fabric 8, 8

.program to_empty                ; (1, 0) passes color 1 East into (2, 0), where nothing is placed
    .if pe_x == 0
    .route 1, ramp -> east
    .route 2, ramp -> west | north   ; off the edge of the fabric: to the host, no warning
    .task main, local, start
main:
    send 1, r1
    send 2, r1
    exit
    .else
    .route 1, west -> east          ; warning: color 1 is routed east from PE (1, 0) to PE (2, 0), which has no program
    .endif
.endprogram
.place to_empty, 0, 0, 2, 1

.program column                  ; a rectangle with the same finding: one warning for all of it
    .route 2, ramp -> east          ; warning: color 2 is routed east from PEs (0, 1..3) to their east neighbours (1, 1..3), which have no program
.endprogram
.place column, 0, 1, 1, 3

.program sender
    .route 3, ramp -> east          ; warning: color 3 is routed east from PE (0, 4) to PE (1, 4) (program `no_route`), which has no route for color 3
    .task main, local, start
main:
    send 3, r1
    exit
.endprogram
.program no_route
    .route 4, west -> ramp
    .task got, data, color=4
got:
    exit
.endprogram
.place sender, 0, 4
.place no_route, 1, 4

.program sw_sender               ; position 1 of color 6 sends East
    .route 5, ramp -> east          ; warning: color 5 is routed east from PE (3, 4) to PE (4, 4) (program `sw_recv`), whose route for color 5 never accepts `west` (RX north in position 0, south in position 1)
    .route 6, ramp -> ramp, ramp -> east ; warning: color 6 is routed east in position 1 from PE (3, 4) to PE (4, 4) (program `sw_recv`), which has no route for color 6
.endprogram
.program sw_recv                 ; no position of color 5 takes West
    .route 5, north -> ramp, south -> ramp
.endprogram
.place sw_sender, 3, 4
.place sw_recv, 4, 4

.program sends                   ; sends on colors this PE does not route out of its RAMP
    .route 7, west -> ramp          ; (West is off the edge: wavelets from the host)
    .dsd out, fabout, color=9, len=4
    .dsd src, mem1d, base=buf, len=4
    .task main, local, start
    .task helper, local
main:
    send 8, r1                      ; warning: `send` on color 8, but PE (0, 5) (program `sends`) has no route for color 8
    sendc 7, r1                     ; warning: `sendc` on color 7, but the route of color 7 on PE (0, 5) (program `sends`) never takes `ramp` in RX (RX west)
    ldsd d0, out                    ; warning: `ldsd d0, out` loads a fabout DSD on color 9 for a tensor op to write, but PE (0, 5) (program `sends`) has no route for color 9
    ldsd a0, src
    fmovs d0, a0
    activate helper
    exit
helper:                             ; activated by name from a task that runs: judged too
    send 10, r1                     ; warning: `send` on color 10, but PE (0, 5) (program `sends`) has no route for color 10
    exit
    .data
buf: .zero 4, f32
.endprogram
.place sends, 0, 5

.program up                      ; row 7 sends North into row 6, where only (2, 6) and (5, 6)
    .route 10, ramp -> north        ; warning: color 10 is routed north from PE (0, 7) and 5 more PEs to their north neighbours (the first: PE (0, 6)), which have no program
    .route 11, ramp -> south        ; the South edge: to the host
.endprogram
.program stop
    .route 10, south -> ramp
    .task got, data, color=10
got:
    exit
.endprogram
.place up, 0, 7, 8, 1
.place stop, 2, 6
.place stop, 5, 6
