    exit
    .data
    .u16 1
    .align 4
x:  .u16 2
    .org 0x20
y:  .u16 3
    .org 0x30
;@ chunks [(2, 1), (4, 1), (32, 1)]
;@ data 4: 0x0002
;@ mem_words 48
