; registers named by number: what is refused, and where the error points
;@ arch wse3
    .task done, local
    addi r(16), r0, 1           ; error: `r(16)`: the general registers are r0..r15
    addi r(-1), r0, 1           ; error: `r(-1)`: the general registers are r0..r15
    addi r(1.5), r0, 1          ; error: N must be an integer, got the float 1.5
    fmovs d(0), a(8)            ; error: `a(8)`: the DSRs of file a are a0..a7
    ld32 r1, [b(1) + 2]         ; error: `b(...)` is a DSR; a memory operand needs a general register
    fmovs d0, a0 async ut(8)    ; error: `ut(8)`: the microthreads are ut0..ut7
    fmovs d0, a0 async x(1)     ; error: expected a microthread ut0..ut7 or ut(N) after `async`, got `x(...)`
    addi r(), r0, 1             ; error: `r(N)` names the general registers by number: it takes one argument, got 0
    addi r(1, 2), r0, 1         ; error: it takes one argument, got 2
    addi r1, r0, r(2)           ; error: must be an expression, got a register
    addi r1, r0, 1 + r(2)       ; error: `r(N)` names a register by number (an instruction's operand), not a value
    .if ut(1)                   ; error: `ut(N)` names a microthread by number
    .endif
    fmovs d0, a(nope)           ; error: unknown symbol `nope`
    fmovs a(0), a1              ; error: no form of `fmovs` takes (a-register, a-register)
.macro on, UT
    fmovs d1, a1 async UT
.endm
    on r(3)                     ; error: expected a microthread ut0..ut7 or ut(N) after `async`, got `r(...)`
                                ; note: in expansion of macro `on`
    exit
;@ errors 15
