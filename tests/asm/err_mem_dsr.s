    ld16 r1, [d0 + 1]           ; error: `d0` is a DSR; a memory operand needs a general register
