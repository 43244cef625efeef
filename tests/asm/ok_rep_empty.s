; A `.rep` with an empty body (blank lines and comments only) repeats nothing and costs nothing.
; It used to run its iterations all the same, and since an empty body counts no statement
; against the 2,000,000-statement limit, the nest below (2e9 empty iterations) never ended.
    .rep 1000
    .rep 2000000
    ; nothing here

    .endr
    .endr
    .rep 2000000, i
    .endr
    exit                                     ; = 0x02000000
;@ code 0x02000000
