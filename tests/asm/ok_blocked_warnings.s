; A task declared `blocked` runs only once this PE's own code unblocks it (no control wavelet,
; other PE or host call clears the bit): warned when nothing in the image unblocks it.
.fabric 4, 1

.program never                   ; the newcomer's mistake: blocked, and nothing unblocks it
    .route 5, west -> ramp
    .task got, data, color=5, blocked  ; warning: task `got` is declared `blocked` and nothing in this program unblocks it
got:
    exit
.endprogram

.program by_unblock              ; `unblock` by name: quiet
    .route 5, west -> ramp
    .task got, data, color=5, blocked
    .task main, local, start
main:
    unblock got
    exit
got:
    exit
.endprogram

.program by_async                ; an async op's `unblock`: quiet
    .task later, local, blocked
    .task main, local, start
    .dsd buf, mem1d, base=data, len=4
main:
    activate later
    ldsd d0, buf
    ldsd a0, buf
    fmovh d0, a0 async ut2 unblock later
    exit
later:
    exit
    .data
data: .zero 4
.endprogram

.program by_id                   ; `unblock` of the task's id as a number: quiet
    T_W = 7
    .task w, local, id=T_W, blocked
    .task main, local, start
main:
    unblock T_W
    exit
w:
    exit
.endprogram

.place never, 0, 0
.place by_unblock, 1, 0
.place by_async, 2, 0
.place by_id, 3, 0
