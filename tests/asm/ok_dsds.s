    .dsd v, mem1d, base=buf, len=4
    .dsd s, mem1d, base=buf + 1, len=2, stride=-1
    .dsd t, mem4d, base=buf, len=[2, 3], stride=[1, 2]
    .dsd u, mem4d, base=buf, len=[2, 3, 4]
    .dsd i, fabin, color=3, len=16
    .dsd o, fabout, color=23, len=0
    ldsd d0, v                  ; = 0x50000000
    ldsd a1, s                  ; = 0x50480001
    ldsd b2, o                  ; = 0x50900005
    exit
    .data
buf: .zero 24
;@ dsd 0 kind=1 base=8 lens=(4,1,1,1) strides=(1,0,0,0) ndim=1
;@ dsd 1 kind=1 base=9 lens=(2,1,1,1) strides=(-1,0,0,0)
;@ dsd 2 kind=2 base=8 lens=(2,3,1,1) strides=(1,2,0,0) ndim=2
;@ dsd 3 kind=2 lens=(2,3,4,1) strides=(1,2,6,0) ndim=3
;@ dsd 4 kind=3 color=3 lens=(16,1,1,1) strides=(0,0,0,0)
;@ dsd 5 kind=4 color=23 lens=(0,1,1,1)
