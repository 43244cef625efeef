; A macro parameter's default can use only the parameters listed before it.
.macro m, a = b + 1, b = 2      ; error: the default of `a` uses `b`, a parameter listed after it
                                ; note: a default can use only the parameters listed before it in macro `m`: list `b` before `a`
                                ; note: in expansion of macro `m` at
    addi r1, r0, a
.endm
.macro self, c = c
    addi r1, r0, c
.endm
    m
    m 1                         ; (a given: its default is not evaluated)
    self                        ; error: the default of `c` uses `c` itself
;@ errors 2
