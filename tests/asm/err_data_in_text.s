    .f32 1.0                    ; error: `.f32` belongs in the data section
