    nop
    .task late, local           ; error: task `late` has no code
