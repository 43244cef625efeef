    slli r1, r2, 32             ; error: shamt 32 (0x20) is out of range; legal: 0..31
