; only comments and blank lines around code

    nop   ; trailing comment with ; semicolons ; = inside
;;; triple
    exit
;@ code 0x01000000 0x02000000
