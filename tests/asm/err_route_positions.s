    .route 3, west -> ramp, west -> east, north -> ramp, south -> ramp, east -> west ; error: at most 4 switch positions
    nop
