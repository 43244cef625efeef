    .task a, local, id=5
    .task b, local, id=5        ; error: task id 5 is already used by task `a`
    exit
