    .task t, local, color=3     ; error: only a data task has a color
    exit
