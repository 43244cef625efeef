    addi r1, , r0               ; error: syntax error: unexpected ','
    nop
    add r1 r2 r3                ; error: syntax error
    ld16 r1, [r2 + 1            ; error: syntax error: unexpected end of line
