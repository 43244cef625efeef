X = .                           ; error: `.` (the current location) has no value here
.program p
    exit
.endprogram
.place p, 0, 0
