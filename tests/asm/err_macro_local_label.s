.macro spin
wait:
    beq r0, r0, wait
.endm
    spin
    spin
    b wait                      ; error: unknown symbol `wait`
