    .ifdef 3                    ; error: `.ifdef` takes one name
    .endif
