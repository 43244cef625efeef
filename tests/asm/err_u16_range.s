    .data
    .u16 65536                  ; error: value 65536 (0x10000) does not fit u16
    .u16 -32769                 ; error: does not fit u16
