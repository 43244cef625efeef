.program sender
    exit
.endprogram
.place sendr, 0, 0              ; error: unknown program `sendr`; did you mean `sender`?
