; taskid() needs a declared task name
    .task first, local, start
first:
    addi r3, r0, taskid(frist)    ; error: `frist` is not a task of this program
    exit
