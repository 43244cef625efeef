; taskid(NAME) gives a task's id as a value, e.g. the payload of a control wavelet
    .task first, local, start
    .task second, local, id=9
    .route 3, ramp -> east
first:
    addi r3, r0, taskid(second)   ; = 0x18300009
    sendc 3, r3                   ; = 0x5c198000
    exit                          ; = 0x02000000
second:
    exit                          ; = 0x02000000
