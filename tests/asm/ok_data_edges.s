; Data layout at its edges: `.org` to the current address (legal: only backwards is refused),
; a label just before 32-bit data that is aligned (the label moves with it), and an image that
; uses exactly all of SRAM (24,576 words on wse2) fits.
    addi r1, r0, c              ; = 0x18100008  (c is where its data is, not the odd word before)
    exit                        ; = 0x02000000
    .data
a:  .u16 1                      ; at 4
    .org 5                      ; the current address
b:  .u16 2, 3                   ; at 5, 6
c:  .f32 1.5                    ; aligned to 8, and c with it
    .export c
    .space 24576 - 10           ; up to the last word of SRAM
;@ chunks [(4, 1), (5, 2), (8, 2)]
;@ data 4: 0x0001 0x0002 0x0003
;@ data 8: 0x0000 0x3fc0
;@ symbol c f32 8 1
;@ mem_words 24576
