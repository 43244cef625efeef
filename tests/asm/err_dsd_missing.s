    .dsd x, mem1d, len=4        ; error: a mem1d DSD needs `base=`
    nop
