; Associativity and C precedence, one expression per line, each chosen so that a wrong parse
; gives another value (the evaluator: asm/wse.lark, asm/expr.py).
    addi r1, r0, 10 - 3 - 2         ; = 0x18100005  ((10 - 3) - 2; right to left would be 9)
    addi r1, r0, 64 / 4 / 2         ; = 0x18100008  ((64 / 4) / 2; not 32)
    addi r1, r0, 100 % 7 % 3        ; = 0x18100002  ((100 % 7) % 3; not 0)
    addi r1, r0, 1 << 2 + 1         ; = 0x18100008  (+ binds tighter than <<; not 5)
    addi r1, r0, 256 >> 2 >> 1      ; = 0x18100020  ((256 >> 2) >> 1)
    addi r1, r0, 1 < 2 == 1         ; = 0x18100001  ((1 < 2) == 1; < binds tighter than ==)
    addi r1, r0, 3 > 2 > 1          ; = 0x18100000  ((3 > 2) > 1 is 1 > 1)
    addi r1, r0, 6 ^ 3 & 5          ; = 0x18100007  (6 ^ (3 & 5); & binds tighter than ^)
    addi r1, r0, 1 | 3 ^ 3          ; = 0x18100001  (1 | (3 ^ 3); ^ binds tighter than |)
    addi r1, r0, 2 & 3 == 3         ; = 0x18100000  (2 & (3 == 3): == binds tighter than &)
    addi r1, r0, 1 || 0 && 0        ; = 0x18100001  (1 || (0 && 0))
    addi r1, r0, 0 ? 1 : 0 ? 2 : 3  ; = 0x18100003  (0 ? 1 : (0 ? 2 : 3))
    addi r1, r0, -2 * 3 + 10        ; = 0x18100004
    addi r1, r0, 7 / -2             ; = 0x1810fffd  (truncates toward zero: -3)
    addi r1, r0, -7 / -2            ; = 0x18100003
    addi r1, r0, 7 % -2             ; = 0x18100001  (the sign of the dividend)
    addi r1, r0, -8 >> 1            ; = 0x1810fffc  (arithmetic: -4)
    addi r1, r0, ceil_div(7, 2)     ; = 0x18100004
    addi r1, r0, ceil_div(-7, 2)    ; = 0x1810fffd  (-3)
    addi r1, r0, ceil_div(7, -2)    ; = 0x1810fffd  (-3: rounds up, toward +infinity)
    addi r1, r0, int(-1.5)          ; = 0x1810ffff  (truncates toward zero: -1)
    addi r1, r0, int(-0.5) + 1      ; = 0x18100001
    addi r1, r0, (1 << 255) >> 254  ; = 0x18100002  (1 << 255 takes 256 bits: the limit, not past it)
    addi r1, r0, -(1 << 255) >> 254 ; = 0x1810fffe
    addi r1, r0, 0 && 1 / 0         ; = 0x18100000  (&& does not evaluate its right side when the left is 0)
    addi r1, r0, 1 || 1 / 0         ; = 0x18100001  (nor || when the left is not 0)
    addi r1, r0, defined(N) && N    ; = 0x18100000  (the use of an undefined N is not evaluated)
    exit                            ; = 0x02000000
