.program p
    exit
.endprogram
.place p, 0, 0, 3, 2            ; error: does not fit the 1x1 fabric
                                ; note: no `.fabric W, H` directive, so the fabric is 1x1: add `.fabric 3, 2`
