; A default may use the parameters listed before it, of a program (with the values given at
; `.place` or their own defaults) as of a macro (with the arguments of the invocation).
.fabric 2, 1
.macro addk, reg, k = 1, k2 = k * 2, k3 = k2 + reg_base
    addi reg, reg, k3
.endm
reg_base = 100
.program p, N, M = N * 2, K = M + N
    addi r1, r0, N * 100 + M * 10 + K
    addk r1                     ; k = 1, k2 = 2, k3 = 102
    addk r2, 3                  ; k2 = 6, k3 = 106
    addk r3, 3, k2 = 5          ; k3 = 105
    exit
.endprogram
.place p, 0, 0, N = 1           ; M = 2, K = 3
.place p, 1, 0, N = 2, M = 5    ; K = 7
;@ images 2
;@ code 0x1810007b 0x18110066 0x1822006a 0x18330069 0x02000000
;@ pe 1, 0
;@ code 0x18100101 0x18110066 0x1822006a 0x18330069 0x02000000
