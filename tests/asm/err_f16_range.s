    .data
    .f16 70000.0                ; error: 70000.0 is out of range for fp16
