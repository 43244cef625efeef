    .arch wse9                  ; error: `.arch` takes one of wse2, wse3
    nop
