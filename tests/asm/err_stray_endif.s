    nop
    .endif                      ; error: `.endif` without `.if`
