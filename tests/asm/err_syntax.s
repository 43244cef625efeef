    addi r1, , r0               ; error: syntax error: unexpected ','
    nop
    add r1 r2 r3                ; error: syntax error
    ld16 r1, [r2 + 1            ; error: syntax error: unexpected end of line
; what may come instead, in plain words, and only what really may (the interactive parser's
; accepts(); the LALR state's own set would add ':' and ')' here)
    ld32 r3, [r12 + 2 3]        ; error: unexpected '3'; expected ',', ']' or an operator
    addf r2, r2 r5              ; error: unexpected 'r5'; expected ',', '=', '(', '->', 'async', end of line or an operator
    ld16 r1, [r2 +              ; error: unexpected end of line; expected a name, an integer, a float, '(', '.' or an operator
