    addi r1, r0, 70000          ; error: imm16 70000 (0x11170) is out of range; legal: -32768..32767
    addi r1, r0, -32769         ; error: legal: -32768..32767 (-0x8000..0x7fff)
    addi r1, r0, 32767
