.program p
    exit
.endprogram
.place q, 0, 0                  ; error: unknown program `q` (a `.program` must come before its `.place`)
