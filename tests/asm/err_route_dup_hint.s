; Two routes for one color on one PE: the note says what to write instead.
    .route 0, west -> ramp
    .route 0, north -> ramp     ; error: color 0 is routed twice
                                ; note: first routed at
                                ; note: a PE has one route per color
                                ; note: `.route 0, west -> ramp, north -> ramp`
                                ; note: `.route 0, north|west -> ramp`
                                ; note: or route one of them on another color
    .route 2, west -> east, east -> west
    .route 2, ramp -> east      ; error: color 2 is routed twice
                                ; note: `.route 2, west -> east, east -> west, ramp -> east`
    .route 4, west -> east, east -> west, north -> south
    .route 4, ramp -> east, south -> north ; error: color 4 is routed twice
                                ; note: a route has at most 4 positions; these two have 5
    .task main, local, start
main:
    exit
;@ errors 3
