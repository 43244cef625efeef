; A fault of an async op on a microthread (tests/emu/test_core_fabric.py): PE (1,0)'s task main
; issues a fabric op on ut3 whose fabout color (6) has no route, then activates `other`, whose
; loop runs while the op waits for its input; the op faults when the input arrives.
.fabric 2, 1
.program src
    .route 1, ramp -> east
    .task main, local, start
main:
    addi r3, r0, 20
loop:
    addi r3, r3, -1
    bne r3, r0, loop
    send 1, r3
    exit
.endprogram
.program fwd
    .route 1, west -> ramp
    .route 5, ramp -> east          ; BUG: should be color 6
    .task main, local, start
    .task other, local
    .task done, local
    .dsd xin,  fabin,  color=1, len=1
    .dsd yout, fabout, color=6, len=1
main:
    ldsd d0, yout
    ldsd a0, xin
    fmovs d0, a0 async ut3 activate done
    activate other
    exit
other:
    addi r4, r0, 100
spin:
    addi r4, r4, -1
    bne r4, r0, spin
    exit
done:
    exit
.endprogram
.place src, 0, 0
.place fwd, 1, 0
