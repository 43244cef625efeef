    .error "bad \q escape"      ; error: unknown escape
