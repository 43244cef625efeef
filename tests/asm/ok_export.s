    .task main, local, start
main:
    exit
    .data
vec: .f32 1.0, 2.0, 3.0
hx:  .f16 1.0
     .f16 2.0                   ; same type continues the symbol
ids: .u32 1
raw: .space 8, u16
    .export vec, hx, ids, raw, main
    .export vec_alias, f32, 3
vec_alias = vec
;@ symbol vec f32 2 3
;@ symbol hx f16 8 2
;@ symbol ids u32 10 1
;@ symbol raw u16 12 8
;@ symbol main task 0 0
;@ symbol vec_alias f32 2 3
