; A memory operand written without brackets: the note says how to write it.
    .task main, local, start
main:
    st32 r1, total              ; error: operand `[r2 + imm16]` of `st32` must be a memory operand
                                ; note: write the memory operand in brackets: `[total]`
    ld16 r2, total + 2          ; error: operand `[r2 + imm16]` of `ld16` must be a memory operand
                                ; note: `[total + 2]`
    ld32 r3, r4                 ; error: got a register
                                ; note: `[r4]` for the address in `r4`
    st16 r1, 0x40               ; error: got an expression
                                ; note: `[0x40]`
    ld16s r1, total             ; error: must be a memory operand
                                ; note: `[total]`
    exit
.macro put, v, where
    st32 v, where
.endm
    put r1, total               ; error: must be a memory operand
                                ; note: `[total]`
.data
total: .u32 0
;@ errors 6
