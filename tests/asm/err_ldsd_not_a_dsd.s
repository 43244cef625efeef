; ldsd takes a DSD: a label or task named there, or an index past the DSD table, is an error
; (they assembled to whatever number the name had, and faulted or misbehaved at run time)
    .task main, local, start
    .dsd dz, mem1d, base=D, len=1
main:
    ldsd d0, D                  ; error: `D` is a data label, not a DSD
    ldsd d1, main               ; error: `main` is a code label, not a DSD
    ldsd d2, 1                  ; error: DSD index 1 is outside this program's DSD table (0..0)
    ldsd d3, 0
    ldsd d4, dz
    exit
    .data
D: .u16 0
;@ errors 3
