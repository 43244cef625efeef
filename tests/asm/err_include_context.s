    .include "inc/bad_line.inc" ; error: imm16 99999 (0x1869f) is out of range
                                ; note: in file included from
