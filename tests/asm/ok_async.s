    .task done, local
    .task go, local, id=3
    fadds d0, a0, b0 async ut0          ; = 0x92000200
    fadds d0, a0, b0 async ut1 activate done   ; = 0x92000440
    fadds d0, a0, b0 async ut7 unblock go      ; = 0x920007c3
    fmovs d1, a1 async ut2 activate 5          ; = 0x90240485
done:
    exit                                ; = 0x02000000
;@ task id=0 kind=0 entry=4
;@ task id=3 kind=0 entry=0
