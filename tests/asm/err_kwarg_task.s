    .task t, local, priority=1  ; error: unexpected `priority` in `.task`
    exit
