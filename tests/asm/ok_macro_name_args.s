; Inside a macro, `.task NAME`, `.dsd NAME` and `.export NAME` act on the name the caller passed
; (they used to declare a task, DSD or export literally called NAME).
;@ symbol foo task 0 0
;@ symbol bar task 1 0
;@ symbol buf f32 8 2
;@ task id=0 kind=1 color=5
;@ task id=1 kind=1 color=6
.macro mk, NAME, C
    .task NAME, data, color=C   ; warning: never runs here: no route of color
.endm
.macro ex, SYM
    .export SYM
.endm
.macro mkdsd, D, B
    .dsd D, mem1d, base=B, len=2
.endm
    mk foo, 5
    mk bar, 6
    .task main, local, start
    mkdsd dv, buf
main:
    ldsd d0, dv                 ; = 0x50000000
    exit
foo:
    exit
bar:
    exit
    .data
buf: .f32 1.0, 2.0
    ex buf
