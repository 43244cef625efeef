    .task t, data               ; error: data task `t` needs `color=C`
    exit
