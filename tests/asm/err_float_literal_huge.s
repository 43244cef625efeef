    .data
    .f32 1e999                  ; error: is too large (it overflows a double)
