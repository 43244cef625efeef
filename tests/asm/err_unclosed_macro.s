.macro m, x                     ; error: `.macro` is never closed: missing `.endm`
    nop
