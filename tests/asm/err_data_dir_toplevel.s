.program p
    exit
.endprogram
.f32 1.0                        ; error: `.f32` is only allowed inside a `.program`
.place p, 0, 0
