    li r1, 5                    ; two instructions, one LINES record
    nop
;@ line 0 1 5
;@ line 2 2 5
