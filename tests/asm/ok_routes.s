    .route 3, west -> ramp
    .route 5, north -> ramp | south
    .route 7, ramp -> east, iq=2, oq=6
    .route 9, west -> east, west -> ramp, north -> 0, 0 -> 0
    nop
;@ route color=3 positions=((8,16),) iq=3 oq=3
;@ route color=5 positions=((1,20),) iq=5 oq=5
;@ route color=7 positions=((16,2),) iq=2 oq=6
;@ route color=9 positions=((8,2),(8,16),(1,0),(0,0)) iq=1 oq=1
