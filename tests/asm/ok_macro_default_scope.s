; A macro's default is evaluated where the macro is defined, not where it is invoked: inside
; `outer`, K is outer's argument (9), but inner's default `a = K` still means the top-level K.
K = 1
.macro inner, a = K
    addi r1, r0, a              ; = 0x18100001 0x1810000a  (the default, then the argument K + 1)
.endm
.macro outer, K
    inner
    inner K + 1                 ; an argument is evaluated where it is written: outer's K + 1
.endm
    outer 9
    exit                        ; = 0x02000000
