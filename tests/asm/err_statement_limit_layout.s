; The statement limit in a program of a layout: the first PE that reaches it is reported and
; the assembler stops there. Each of the other PEs (their walks differ: the count depends on
; pe_x) used to walk to the limit as well: 16 times the time here, hours on a 64x64 layout
; (found by fuzzing).
.fabric 4, 4
.program p
    .task main, local, start
main:
    .rep 2000000 - pe_x - 4 * pe_y
    .rep 0
    .endr
    .rep 0          ; error: too many statements executed (more than 2000000)
                    ; note: while assembling program `p` for PE (0, 0)
                    ; note: the assembler stopped there: the PEs after this one were not assembled
    .endr
    .endr
    exit
.endprogram
.place p, 0, 0, 4, 4
;@ errors 1
