    .data
    .fill f64, 4                ; error: expected an element type (f16, f32, u16, u32)
