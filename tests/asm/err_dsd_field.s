    .dsd x, fabin, color=2, len=4, stride=2  ; error: a fabin DSD has no field `stride`
    nop
