    nop                         ; error: instruction `nop` is outside any `.program`
.program p
    exit
.endprogram
.place p, 0, 0
