    .route 3, west -> ramp, iq=8  ; error: queue id (iq) 8 is out of range; legal: 0..7
    nop
