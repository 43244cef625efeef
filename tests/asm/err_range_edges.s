; Each range at its first illegal value, one past the last legal one.
    .route 24, west -> ramp     ; error: color 24 (0x18) is out of range; legal: 0..23
    .route 23, west -> 32       ; error: tx port set 32 (0x20) is out of range; legal: 0..31
    .dsd m, mem4d, base=0, len=[2, 65536]   ; error: length 65536 (0x10000) is out of range; legal: 1..65535
    .dsd s, mem1d, base=0, len=4, stride=32768  ; error: stride 32768 (0x8000) is out of range; legal: -32768..32767
    .dsd t, mem1d, base=0, len=4, stride=-32769 ; error: stride -32769 (-0x8001) is out of range
    .dsd f, fabin, color=24, len=1  ; error: color 24 (0x18) is out of range; legal: 0..23
    addi r1, r0, log2(0)        ; error: log2 needs a power of two; got 0
    addi r1, r0, 32768          ; error: imm16 32768 (0x8000) is out of range; legal: -32768..32767
    addi r1, r0, -32769         ; error: imm16 -32769 (-0x8001) is out of range
    exit
;@ errors 9
