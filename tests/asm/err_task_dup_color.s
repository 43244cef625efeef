    .task a, data, color=3
    .task b, data, color=3      ; error: color 3 already runs data task `a`
    exit
