    ori r1, r1, 0x10000         ; error: uimm16 65536 (0x10000) is out of range; legal: 0..65535
    andi r1, r1, -1             ; error: uimm16 -1 is out of range
