start:
    nop
    .export start               ; error: `start` is a code label
