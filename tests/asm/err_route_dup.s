    .route 3, west -> ramp
    .route 3, east -> ramp      ; error: color 3 is routed twice
    nop
