; A label or constant named after a macro parameter defines the name the caller passed, as
; `.task NAME` and `.dsd NAME` do (it used to define a local name that the parameter then
; hid, so `bne ..., L` went to the caller's `top`, undefined here, or wherever it was defined).
;@ symbol tab u16 12 2
;@ symbol n_top u16 14 1
;@ code 0x1f100000 0x1a110003 0x1811ffff 0x3110ffff 0x3000fffe 0x02000000
.macro loop_n, L, N
    li r1, N
L:
    addi r1, r1, -1
    bne r1, r0, L
.endm
.macro table, T, NAME, V
    .data
T:  .u16 V, V + 1
NAME = V * 2
    .text
.endm
    .task main, local, start
main:
    loop_n top, 3
    beq r0, r0, top             ; the caller's label
    exit
    table tab, twice, 7
    .data
n_top: .u16 twice               ; twice = 7 * 2
    .export tab, n_top
