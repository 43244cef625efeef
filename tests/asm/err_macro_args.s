.macro m, a, b
    addi r1, r0, a + b
.endm
    m 1                         ; error: macro `m` needs the operand `b`
    m 1, 2, 3                   ; error: macro `m` takes 2 operands (a, b), got 3
    m 1, c=2                    ; error: macro `m` has no parameter `c`
