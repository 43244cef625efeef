    nop
    .task a, local              ; no label `a`: the next instruction
    nop
    .task b, local, entry=0
    exit
;@ task id=0 entry=1
;@ task id=1 entry=0
