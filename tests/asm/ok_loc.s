    nop
    .loc "kernel.c", 10, 3
    nop
    nop
    .loc "kernel.c", 10, 3
    nop
    .loc
    nop
;@ line 0 1 5
