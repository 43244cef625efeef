    addi r1, r0, 5 $            ; error: syntax error: unexpected character '$'
