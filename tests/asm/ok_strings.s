    .loc "dir/a \"quoted\" name.c", 1, 1
    nop
