    .dsd a, fabin, color=2, len=4, name="not a name"  ; error: `name=` takes a string that is an identifier or empty
    .dsd b, fabin, color=2, len=4, name=b  ; error: `name=` takes a string that is an identifier or empty
    .dsd c, fabin, color=2, len=4, name="c", name="d"  ; error: `name=` is given twice
    nop
