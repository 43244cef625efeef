    beq r1, r0, nowhere         ; error: unknown symbol `nowhere`
loop:
    bne r1, r0, lop             ; error: did you mean `loop`?
