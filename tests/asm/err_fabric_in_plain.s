    .fabric 2, 2                ; a layout directive makes this a layout file
    nop                         ; error: instruction `nop` is outside any `.program`
