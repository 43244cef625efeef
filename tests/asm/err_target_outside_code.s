; a branch or jump target outside the code is an assembler error at its operand (both loaders
; refused the object, and wse-objdump could not print it)
    .task main, local, start
main:
    jmp 5                       ; error: jump target 5 is outside the code: this program has instructions 0..4
    call 100                    ; error: jump target 100 (0x64) is outside the code
    beq r1, r2, main - 1        ; error: branch target -1
    b . + 3                     ; error: branch target 6 is outside the code
    exit
;@ errors 4
