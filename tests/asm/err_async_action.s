    .task t, local
    fadds d0, a0, b0 async ut1 activte t    ; error: expected `activate` or `unblock`
