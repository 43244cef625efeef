; Names declared inside a `.rep` body or a macro are local to each iteration or expansion; a
; lookup after it says where the name was declared and what to do.
counts = 1
    .rep 2, i
    .dsd din, mem1d, base=0, len=4
K = 3
count = 2
lab:
    nop
    .endr
.macro mk
tmp = 5
here:
    nop
.endm
    mk
    .task main, local, start
main:
    ldsd a0, din                ; error: unknown DSD `din`
                                ; note: `din` was declared inside the `.rep` at
                                ; note: err_local_names.s:4:5 (local to each iteration); declare it before the `.rep` to use it after
    li r1, K                    ; error: unknown symbol `K`
                                ; note: `K` was declared inside the `.rep` at
    b lab                       ; error: unknown symbol `lab`
                                ; note: `lab` was declared inside the `.rep` at
    li r2, i                    ; error: unknown symbol `i`
                                ; note: `i` is the variable of the `.rep` at
    li r2, count                ; error: unknown symbol `count`; did you mean `counts`?
                                ; note: `count` was declared inside the `.rep` at
    li r3, tmp                  ; error: unknown symbol `tmp`
                                ; note: `tmp` was declared inside macro `mk` (its expansion at
                                ; note: err_local_names.s:16:5), local to each expansion; declare it outside the macro
                                ; note: name it after a parameter of `mk`
    b here                      ; error: unknown symbol `here`
                                ; note: `here` was declared inside macro `mk`
    exit
.data
    .rep 1
buf: .u16 0
    .endr
    .export buf                 ; error: cannot export unknown symbol `buf`
                                ; note: `buf` was declared inside the `.rep` at
;@ errors 8
