    .task recv, data, color=4   ; warning: data task `recv` never runs here
    .task work, local, id=10, blocked   ; warning: task `work` is declared `blocked` and nothing in this program unblocks it
    .task ctl, control
    .task boot, local, start
recv:
    activate work               ; = 0x5800000a
    exit                        ; = 0x02000000
work:
    unblock recv                ; = 0x5a000000
    block ctl                   ; = 0x59000001
    exit                        ; = 0x02000000
boot:
ctl:
    exit                        ; = 0x02000000
;@ task id=0 kind=1 color=4 entry=0 activated=False blocked=False
;@ task id=10 kind=0 color=255 entry=2 blocked=True
;@ task id=1 kind=2 color=255 entry=5
;@ task id=2 kind=0 entry=5 activated=True
