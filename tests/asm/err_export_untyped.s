    nop
    .data
tail:
    .export tail                ; error: data label `tail` has no data after it
