    .task a, local, id=64       ; error: task id 64 (0x40) is out of range; legal: 0..63
    exit
