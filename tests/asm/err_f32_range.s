    .data
    .f32 1e39                   ; error: is out of range for fp32
