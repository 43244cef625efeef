    .route 3, iq=2              ; error: a route needs at least one `RX -> TX` position
    nop
