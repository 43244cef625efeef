; a data directive's error is reported once: the export of its label does not add a second
; error that follows from it ("has no data after it")
    exit
    .data
vec: .zero 20000, f32           ; error: count 20000 (0x4e20) is out of range
    .export vec
;@ errors 1
