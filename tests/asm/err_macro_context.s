.macro setimm, v
    addi r1, r0, v
.endm
    setimm 99999                ; error: imm16 99999 (0x1869f) is out of range
                                ; note: in expansion of macro `setimm`
