    exit
    .data
h:  .f16 1.0, -2.0, 0.5         ; at 2
w:  .u16 0xbeef, -1             ; at 5
s:  .f32 1.0                    ; aligned to 8
u:  .u32 0x12345678, -1         ; at 10
;@ data 2: 0x3c00 0xc000 0x3800 0xbeef 0xffff
;@ data 8: 0x0000 0x3f80 0x5678 0x1234 0xffff 0xffff
;@ chunks [(2, 5), (8, 6)]
;@ mem_words 14
