    send 24, r1                 ; error: color 24 (0x18) is out of range; legal: 0..23
