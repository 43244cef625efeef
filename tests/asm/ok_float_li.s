    li r2, 1.5                  ; = 0x1f203fc0 0x1a220000
    li r3, -0x1p-3              ; = 0x1f30be00 0x1a330000
    li r4, 1e0                  ; = 0x1f403f80 0x1a440000
    li r5, inf                  ; = 0x1f507f80 0x1a550000
    li r6, -inf                 ; = 0x1f60ff80 0x1a660000
    li r7, nan                  ; = 0x1f707fc0 0x1a770000
    li r8, 0.1                  ; = 0x1f803dcc 0x1a88cccd
