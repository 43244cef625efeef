    trap 0xbeef                 ; = 0x0300beef
    trap 0                      ; = 0x03000000
