; Warnings about where a task's code goes: past the end of the code, or on into another
; task's entry (a missing `exit`). Each program is one image with its own code.
.fabric 16, 1

.program off_end                 ; the last instruction falls through, off the code
    .task main, local, start
main:
    nop
    addi r1, r1, 1              ; warning: task `main` can run past the end of the code: `addi` at pc 1 is the last instruction
.endprogram

.program off_end_branch          ; a conditional branch at the end falls through when not taken
    .task main, local, start
main:
    addi r1, r1, 1
    bne r1, r2, main            ; warning: can run past the end of the code: `bne` at pc 1
.endprogram

.program off_end_call            ; after the callee returns, the caller goes on to pc + 1
    .task main, local, start
main:
    jmp go
f:
    ret
go:
    call f                      ; warning: task `main` can run past the end of the code: `call` at pc 2
.endprogram

.program off_end_never_taken     ; bne r, r is never taken: it falls through
    .task main, local, start
main:
    bne r3, r3, main            ; warning: `bne` at pc 0 is the last instruction
.endprogram

.program falls_into              ; `main` forgot its exit and runs `bump`
    .task main, local, start
    .task bump, local
main:
    li r1, 5
    addi r1, r1, 1              ; warning: task `main` falls through into the entry of task `bump` at tests/asm/ok_flow_warnings.s:42:5
bump:
    addi r2, r2, 1
    exit
.endprogram

.program falls_into_next         ; the same into a task that enters at the next instruction
    .task main, local, start
main:
    addi r1, r1, 1              ; warning: task `main` falls through into the entry of task `recv`
    .task recv, data, color=2
    addi r2, r2, 1
    exit
    .route 2, west -> ramp
.endprogram

.program falls_via_branch        ; the instruction before the entry is reached by a branch
    .task main, local, start
    .task tick, local
main:
    beq r1, r2, tail
    exit
tail:
    nop                         ; warning: task `main` falls through into the entry of task `tick`
tick:
    addi r1, r1, 1
    exit
.endprogram

; ----- no warning from here on -----

.program ends_well               ; every path ends: exit, jmp, jr (ret), b, trap
    .task a, local, start
    .task b, local
    .task c, local
    .task d, local
    .task e, local
a:
    exit
b:
    jmp a
c:
    ret
d:
    b a
e:
    trap 1
.endprogram

.program tail_call               ; a call of a routine that never returns (it exits) ends the path
    .task main, local, start
main:
    jmp go
fin:
    call g
    exit
g:
    ret
go:
    call fin
.endprogram

.program shared_exit             ; falling onto another task's `exit` only ends the task
    .task main, local, start
    .task done, local
main:
    addi r1, r1, 1
done:
    exit
.endprogram

.program shared_by_entry         ; entry= shares code on purpose, on either side
    .task setup, local, start
    .task work, data, color=3, entry=common
    .task more, local, entry=1
    .route 3, west -> ramp
setup:
    li r1, 0
common:
    addi r1, r1, 1
    exit
.endprogram

.program loop_before_entry       ; code before an entry that its task loops back to is shared
    .task main, local, start     ; with it: `main` entering that loop is not judged
    .task work, local
main:
    li r1, 0
again:
    addi r1, r1, 1
work:
    blt r1, r2, again
    exit
.endprogram

.program unreachable_end         ; code that no path from a task entry reaches is not judged
    .task main, local, start
main:
    jr r4
    nop
.endprogram

.program no_tasks                ; instructions but no task: nothing runs them
    nop
.endprogram

.program explicit_branch         ; `b bump` says on purpose: it goes on into bump's code
    .task main, local, start
    .task bump, local
main:
    b bump
bump:
    exit
.endprogram

.place off_end, 0, 0
.place off_end_branch, 1, 0
.place off_end_call, 2, 0
.place off_end_never_taken, 3, 0
.place falls_into, 4, 0
.place falls_into_next, 5, 0
.place falls_via_branch, 6, 0
.place ends_well, 7, 0
.place shared_exit, 8, 0
.place shared_by_entry, 9, 0
.place loop_before_entry, 10, 0
.place unreachable_end, 11, 0
.place no_tasks, 12, 0
.place explicit_branch, 13, 0
.place tail_call, 14, 0
