    exit
    .data
a:  .u16 ., ., .                ; each element's own address
;@ data 2: 0x0002 0x0003 0x0004
