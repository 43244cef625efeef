; the object stores each DSD's name: as declared, the caller's name for a macro parameter, a
; macro's local name once per expansion, or the one `name=` gives ("" for none)
.macro vec, NAME, at
    .dsd NAME, mem1d, base=buf + at, len=2
    .dsd tmp, fabin, color=3, len=2
.endm
    .dsd d_in, fabin, color=3, len=4
    vec d_lo, 0
    vec d_hi, 2
    .dsd anon, fabout, color=4, len=1, name=""
    .dsd alias, fabout, color=5, len=1, name="d_out"
    ldsd d0, d_lo
    exit
    .data
buf: .zero 4
;@ dsd 0 kind=3 name='d_in'
;@ dsd 1 kind=1 base=4 name='d_lo'
;@ dsd 2 kind=3 name='tmp'
;@ dsd 3 kind=1 base=6 name='d_hi'
;@ dsd 4 kind=3 name='tmp'
;@ dsd 5 kind=4 name=''
;@ dsd 6 kind=4 color=5 name='d_out'
