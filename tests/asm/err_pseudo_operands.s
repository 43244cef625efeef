; Operand errors of the pseudo-instructions (li, mov, ret, b) name the pseudo-instruction as
; written and its usage, not the instructions it expands to (addi, lui/ori, jr, beq), and say
; what to write instead where there is an obvious alternative.
.macro setv, R, V
    mov R, V                    ; (the error is at the caller's argument)
.endm
X = 3
    mov r1, 5                   ; error: operand `r2` of `mov` must be a register (r0-r15), got an expression
                                ; note: usage: mov r1, r2
                                ; note: to load a constant, use `li r1, 5`
    mov r1, X + 2               ; error: operand `r2` of `mov` must be a register
                                ; note: use `li r1, X + 2`
    mov r1, [r2 + 4]            ; error: operand `r2` of `mov` must be a register (r0-r15), got a memory operand
                                ; note: use `ld32 r1, [r2 + 4]`
    mov 5, r1                   ; error: operand `r1` of `mov` must be a register (r0-r15), got an expression
                                ; note: usage: mov r1, r2
    mov d0, r1                  ; error: operand `r1` of `mov` must be a register (r0-r15), got a d-register
    mov r1, r2, r3              ; error: `mov` takes 2 operands, got 3
                                ; note: usage: mov r1, r2
    mov r1                      ; error: `mov` takes 2 operands, got 1
    mov r1=r2                   ; error: this kind of operand is not allowed in an instruction
    setv r3, 7                  ; error: operand `r2` of `mov` must be a register
                                ; note: in expansion of macro `setv`
    li r1, r2                   ; error: operand `imm32` of `li` must be an expression, got a register
                                ; note: usage: li r1, imm32
                                ; note: to copy a register, use `mov r1, r2`
    li r1, [r2]                 ; error: operand `imm32` of `li` must be an expression, got a memory operand
                                ; note: use `ld32 r1, [r2]`
    li 5, 5                     ; error: operand `r1` of `li` must be a register (r0-r15), got an expression
    li r1                       ; error: `li` takes 2 operands, got 1
                                ; note: usage: li r1, imm32
    li r1, 5 async ut0          ; error: `li` takes no async clause
    ret r1                      ; error: `ret` takes 0 operands, got 1
                                ; note: usage: ret
                                ; note: use `jr r1`
    b r1                        ; error: operand `off16` of `b` must be an expression, got a register
                                ; note: usage: b off16
                                ; note: use `jr r1`
    b [r1]                      ; error: operand `off16` of `b` must be an expression, got a memory operand
    b                           ; error: `b` takes 1 operand, got 0
    exit
    .data
    li r1, 5                    ; error: instruction `li` in the data section
;@ errors 19
