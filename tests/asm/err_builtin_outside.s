X = pe_x                        ; error: `pe_x` is a per-PE value, only available inside a `.program`
.program p
    exit
.endprogram
.place p, 0, 0
