; The walkthrough's case: the task's only instruction fails; that is the one error.
.task main, local, start
main:
    st32 r1, total              ; error: operand `[r2 + imm16]` of `st32` must be a memory operand
;@ errors 1
