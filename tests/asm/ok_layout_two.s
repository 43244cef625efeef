.fabric 2, 1
.program sender
    .route 3, ramp -> east
    .task main, local, start
main:
    li r2, 1.5                  ; = 0x1f203fc0 0x1a220000
    send 3, r2                  ; = 0x5b190000
    exit                        ; = 0x02000000
.endprogram
.program receiver
    .route 3, west -> ramp
    .task got, data, color=3
got:
    st32 r1, [r0 + result]
    exit
    .data
result: .f32 0.0
    .export result
.endprogram
.place sender, 0, 0
.place receiver, 1, 0
;@ images 2
;@ fabric 2 1
;@ placement [(0, 0, 1, 1, 0), (1, 0, 1, 1, 1)]
;@ pe 1, 0
;@ name receiver
;@ code 0x2c100004 0x02000000
;@ symbol result f32 4 1
;@ task id=0 kind=1 color=3 entry=0
