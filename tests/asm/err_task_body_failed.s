; A task whose instructions exist but fail to assemble has code: no "task has no code" error
; for it, and a label after them (a branch target) is still inside the code.
.macro spin
    nop
.endm
    .task main, local, start
main:
    st32 r1, total              ; error: operand `[r2 + imm16]` of `st32` must be a memory operand
    .task other, local
other:
    b done
done:
    frob r1                     ; error: unknown instruction `frob`
    .task third, local
third:
    spin 1                      ; error: macro `spin` takes 0 operands
;@ errors 3
