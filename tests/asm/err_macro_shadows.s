.macro add, x                   ; error: macro `add` would hide the instruction `add`
    nop
.endm
