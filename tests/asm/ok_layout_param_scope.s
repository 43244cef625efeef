; Name resolution inside a program: a macro's argument is found before a program parameter
; of the same name (the macro's scope is searched first, then the program's values);
; defined() sees the program's parameters and the per-PE built-ins.
.fabric 2, 1
.macro put, N
    addi r1, r0, N              ; = 0x18100005  (the argument 5, not the program's N = 7)
    addi r1, r0, N * 2          ; = 0x1810000a  (a bare argument is substituted; in an expression, looked up)
.endm
.program p, N
    put 5
    addi r1, r0, N              ; = 0x18100007
    addi r1, r0, defined(N)     ; = 0x18100001  (a parameter is defined)
    addi r1, r0, defined(pe_x)  ; = 0x18100001  (and so is a built-in, inside a program)
    .if -0.5                    ; a float condition is true when it is not 0
    nop                         ; = 0x01000000
    .endif
    .if 0.0
    nop
    .endif
    exit                        ; = 0x02000000
.endprogram
.place p, 0, 0, N = 7
