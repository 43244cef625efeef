    nop
    .data
big: .space 30000               ; error: count 30000 (0x7530) is out of range; legal: 0..24576
