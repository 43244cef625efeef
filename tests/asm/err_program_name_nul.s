.program p, "img\x00x"           ; error: an image name cannot contain NUL (\x00)
    exit
.endprogram
.program q, "img\x01"
    exit
.endprogram
.place q, 1, 0
