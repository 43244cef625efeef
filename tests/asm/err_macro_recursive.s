.macro loop_forever, n
    loop_forever n              ; error: macro expansion is nested too deeply
.endm
    loop_forever 1
