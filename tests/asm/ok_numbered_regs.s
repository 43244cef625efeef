; registers named by number: PREFIX(N), N a constant expression (a .rep VAR, a macro
; parameter, a -D define, a per-PE value); each line assembles as the named register would
;@ define K=2
    .task done, local
    .dsd v, mem1d, base=0, len=4
.macro acc, J, N
    fadds d(J), a(J), b(J + 1) async ut(N) activate done
.endm
.macro acc_on, UT
    fmovs d1, a1 async UT
.endm
.rep 3, i
    ldsd a(i), v
    ldsd b(2 * i + 1), v
    addi r(i + K), r(i), i
    ld32 r(15 - i), [r(i + 1) + i]
.endr
    ldsd d(K * 3), v
    acc 3, K + 5
    acc_on ut(K)
    acc_on ut4
    st32 r(K), [r(K) - 1]
done:
    exit
;@ code 0x50400000 0x50880000 0x18200000 0x2af10000 0x50480000 0x50980000 0x18310001 0x2ae20001 0x50500000 0x50a80000 0x18420002 0x2ad30002 0x50300000 0x926e05c0 0x90240280 0x90240300 0x2c22ffff 0x02000000 
