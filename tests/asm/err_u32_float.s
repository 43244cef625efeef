    .data
    .u32 1.5                    ; error: `.u32` needs an integer, got the float 1.5
