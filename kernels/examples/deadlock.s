; deadlock.s: a deliberately deadlocked program, to show wse-emu's hang report.
;
;   wse-as kernels/examples/deadlock.s -o deadlock.wso
;   wse-emu --grid 2x1 deadlock.wso          # exits 1 and says who waits on what
;
; Two PEs each wait to receive one value from the other before sending their own: the
; classic receive-before-send cycle. Neither wavelet is ever sent, so both CEs sit in a
; fabric read (mov32 from a fabin DSD) forever.
;
; Layout: `left` on PE (0,0), `right` on PE (1,0).
; Colors: 1 carries right -> left (West), 2 carries left -> right (East).
; Tasks:  `main` on each PE (local, activated at load).
; Memory: `got` (u32): where the received value would go.
.fabric 2, 1

.macro exchange, IN, OUT
    .dsd inbox, fabin, color=IN, len=1
    .dsd slot, mem1d, base=got, len=1
    .task main, local, start
main:
    ldsd d0, slot
    ldsd a0, inbox
    mov32 d0, a0              ; wait for the peer's value...
    li r2, 42
    send OUT, r2              ; ...before sending ours: never reached
    exit
    .data
got: .u32 0
    .export got
.endm

.program left
    .route 1, east -> ramp
    .route 2, ramp -> east
    exchange 1, 2
.endprogram

.program right
    .route 2, west -> ramp
    .route 1, ramp -> west
    exchange 2, 1
.endprogram

.place left, 0, 0
.place right, 1, 0
