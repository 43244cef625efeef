    exit
    .data
v:  .f32 1.0
    .export v
    .export v                   ; error: `v` is exported twice
