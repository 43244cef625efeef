    addi r1, r0, ceil_div(5)    ; error: `ceil_div` takes 2 arguments, got 1
