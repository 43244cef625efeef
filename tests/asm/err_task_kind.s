    .task t, lokal              ; error: unknown task kind `lokal`
    exit
