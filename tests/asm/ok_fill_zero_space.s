    exit
    .data
a:  .fill f16, 3, 1.0
b:  .zero 2
c:  .space 4
d:  .fill u32, 2, 7
e:  .fill f32, 1
;@ data 2: 0x3c00 0x3c00 0x3c00 0x0000 0x0000
;@ data 12: 0x0007 0x0000 0x0007 0x0000 0x0000 0x0000
;@ chunks [(2, 5), (12, 6)]
;@ mem_words 18
