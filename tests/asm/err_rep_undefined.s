    .rep COUNT                  ; error: unknown symbol `COUNT`
    nop
    .endr
