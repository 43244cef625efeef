; A label named after a macro parameter needs a name for it, and defines that name once.
;@ errors 3
.macro spin, L
L:                              ; error: `L` stands for a name here, but the macro was given an expression
    beq r0, r0, L
.endm
    .task main, local, start
main:
    spin wait
    spin wait                   ; error: `wait` is already defined
                                ; note: first defined at
    spin 4 + 1                  ; error: branch target 5 is outside the code
    exit
