; gemm.s: C = A B on a P x P square of PEs (Cannon's algorithm), A and B fp16, C fp32,
; accumulated in fp32 by fmachs (dst = src0 + fp32(src1) * rs).
; Defines used by the objdump round-trip test (tests/asm/test_roundtrip.py):
;@ define P=3
;@ define MB=5
;@ define KB=10
;@ define NB=4
;
; Defines (wse-as -D / assemble_text(defines=...)):
;   P           the grid: P x P PEs (Cannon needs a square)
;   MB, KB, NB  the blocks on each PE: A is MB x KB, B is KB x NB, C is MB x NB (the driver
;               pads A to P*MB x P*KB and B to P*KB x P*NB with zeros; kernels/gemm/run.py
;               computes MB = ceil(M/P), KB = ceil(K/P), NB = ceil(N/P))
;
; Layout: PE (px, py) computes C block (py, px). Blocks A(i, l) (rows i*MB.., columns l*KB..)
; and B(l, j) are written by the host pre-skewed (Cannon's alignment, free here since host
; writes take no cycles): PE (px, py) starts with A(py, (py+px) % P) and B((py+px) % P, px).
; At each of the P steps it does C += A_cur B_cur, while (steps 0 .. P-2) A_cur goes one PE
; West and B_cur one PE North, so at step s it holds A(py, l), B(l, px) with l = (py+px+s) % P.
; The mesh has no wrap-around links: column 0 sends its A East to column P-1 on a color of its
; own that passes through the row (and row 0 its B South to row P-1):
;
;      <- CA(x%2) <- CA(x%2) <-        A shifts West on a checkerboard of CA0/CA1: PE x
;   [0,0] [1,0] [2,0] ... [P-1,0]      sends on CA0 + x%2 and receives from the East on
;     '==== CAW (west -> east) ==>'    CA0 + (x+1)%2; column 0 sends on CAW, which passes
;                                      East through the row to column P-1 (its receive color).
;   B is the same turned a quarter: North on CB0/CB1, row 0 -> row P-1 on CBW.
;
; Colors:  CA0 = 0, CA1 = 1 (A West), CAW = 2 (A wrap, East), CB0 = 3, CB1 = 4 (B North),
;          CBW = 5 (B wrap, South). Every directed link carries one color family, so the
;          four streams of a PE share only its RAMP (one wavelet per cycle into the CE).
; Tasks:   main    local, activated at load: loads the DSRs, widens the host's fp16 B block
;                  to fp32 (fh2s), then runs step 0.
;          (step)  not a task: the code of one step, run by main or by the join task that
;                  completes the previous step. Steps 0 .. P-2 first start four async fabric
;                  ops, each activating its own join task when it finishes:
;                    ut0: A_cur -> West (mov16)      activate ja_out
;                    ut1: East -> A_nxt (mov16)      activate ja_in
;                    ut2: B_cur -> North (mov32)     activate jb_out
;                    ut3: South -> B_nxt (mov32)     activate jb_in
;                  then compute C += A_cur B_cur (the fabric ops run on their microthreads
;                  beside it, one wavelet per cycle, off the datapath).
;          ja_out, ja_in, jb_out, jb_in  local, entry=joined: one task per op (an activation
;                  is one bit per task, so two ops activating one task could count as one).
;                  joined counts r10 down from 5 (the four ops and the compute); the one
;                  that reaches 0 swaps the buffers and runs the next step. A send must
;                  have finished before the next step's receive overwrites its buffer.
; Compute: C (MB x NB, column-major fp32) += A_cur (MB x KB, column-major fp16) B_cur (KB x
;          NB, column-major fp32), in groups of up to 8 columns of A held by b0..b7: for each
;          group, for each column j of C: C[:, j] += fp32(A[:, k]) * B[k, j] for the group's
;          k in order (ld32 of B[k, j], then fmachs over MB elements). Every C element adds
;          its k in ascending order within a step. Ops 0 and 5 of a group are synchronous,
;          the others async on ut4..ut7 (macro mac); a 1-element fmovs at the end of the
;          compute waits for the datapath before the buffers may be reused.
; Registers: r1 = B[k, j]; r2 scratch; r3 = address of B[k, j]; r4 = columns left;
;          r5/r6 = A_cur/A_nxt, r7/r8 = B_cur/B_nxt (word addresses); r9 = steps left after
;          this one; r10 = join count.
; DSRs:    d0 = a0 = column j of C; b0..b7 = columns of A_cur; d1/a1, d2/a2, d3/a3, d4/a4:
;          the four fabric ops; d5/a5: the fp16 -> fp32 widening of B at load.
; Memory map (data, after the code; the fp32 arrays first, so they are 2-word aligned):
;   C   fp32[MB*NB]  the result block, column-major (zero at load)
;   B0  fp32[KB*NB]  B buffer 0: the widened host block (step 0's B_cur)
;   B   fp32[KB*NB]  B buffer 1; the host writes its fp16 block into its first KB*NB words
;                    (exported as B, f16[KB*NB]), which main widens into B0
;   A   fp16[MB*KB]  A buffer 0: the host's block, column-major (step 0's A_cur)
;   A1  fp16[MB*KB]  A buffer 1
; Cost: each step's compute, per group of G columns of A (G = 8 but the last), is
;   2G + 4 cycles of set-up, then per column of C G fmachs of ceil(MB/w) cycles on the
;   datapath (w: the mixed-class SIMD width: 4 on wse3, 2 on wse2), the ld32s and the loop's
;   5 instructions hidden under it but for one cycle after each synchronous op; then the
;   drain. The shifts move (MB + NB) KB wavelets into each CE, at most one per cycle, beside
;   the compute; the step ends when both are done and the join tasks have run
;   (kernels/gemm/model.py simulates it: exact when the compute is the longer).
.ifndef P
.error "define P, MB, KB and NB (see the header)"
.endif

CA0 = 0
CA1 = 1
CAW = 2
CB0 = 3
CB1 = 4
CBW = 5
NG = ceil_div(KB, 8)                     ; groups of A columns per step

; b<I> = REG (the base of a column of A)
.macro setb, I, REG
    dsdbase b(I), REG
.endm

; C[:, j] += fp32(A[:, k]) * B[k, j] for the k of b<I>; r3 points at B[k0, j], k = k0 + I.
; Ops 0 and 5 of a group are synchronous, the others async on ut4..ut7 in turn (ut0..ut3 carry
; the shifts; op I is async op number I - 1 - I / 5 of the group): an async op costs the main
; thread one cycle, so it loads the next B[k, j] while the datapath works, and the synchronous
; op after at most four async ones waits for the datapath to drain, so a microthread is always
; free when it is used again.
.macro mac, I
    ld32 r1, [r3 + 2 * I]
    .if I % 5 == 0
    fmachs d0, a0, b(I), r1
    .else
    fmachs d0, a0, b(I), r1 async ut(4 + (I - 1 - I / 5) % 4)
    .endif
.endm

.fabric P, P

.program gemm
    ; ---- routes ---------------------------------------------------------------------------
    .if P > 1
    .if pe_x > 0
        .route CA0 + pe_x % 2, ramp -> west             ; my A block goes West
    .endif
    .if pe_x < P - 1
        .route CA0 + (pe_x + 1) % 2, east -> ramp       ; my East neighbour's comes in
    .endif
    .if pe_x == 0
        .route CAW, ramp -> east                        ; column 0 -> column P-1
    .elif pe_x == P - 1
        .route CAW, west -> ramp
    .else
        .route CAW, west -> east
    .endif
    .if pe_y > 0
        .route CB0 + pe_y % 2, ramp -> north            ; my B block goes North
    .endif
    .if pe_y < P - 1
        .route CB0 + (pe_y + 1) % 2, south -> ramp      ; my South neighbour's comes in
    .endif
    .if pe_y == 0
        .route CBW, ramp -> south                       ; row 0 -> row P-1
    .elif pe_y == P - 1
        .route CBW, north -> ramp
    .else
        .route CBW, north -> south
    .endif
    A_OUT = pe_x > 0 ? CA0 + pe_x % 2 : CAW
    A_IN = pe_x < P - 1 ? CA0 + (pe_x + 1) % 2 : CAW
    B_OUT = pe_y > 0 ? CB0 + pe_y % 2 : CBW
    B_IN = pe_y < P - 1 ? CB0 + (pe_y + 1) % 2 : CBW
    .endif

    ; ---- tasks and DSDs -------------------------------------------------------------------
    .task main, local, start
    .task ja_out, local, entry=joined
    .task ja_in, local, entry=joined
    .task jb_out, local, entry=joined
    .task jb_in, local, entry=joined

    .dsd dc, mem1d, base=C, len=MB                      ; a column of C (fp32)
    .dsd dacol, mem1d, base=A, len=MB                   ; a column of A (fp16)
    .dsd db32, mem1d, base=B0, len=KB * NB              ; B0 as fp32
    .dsd db16, mem1d, base=B, len=KB * NB               ; the host's fp16 B block
    .dsd dsink, mem1d, base=sink, len=1                 ; the drain of the datapath
    .if P > 1
    .dsd dablk, mem1d, base=A, len=MB * KB              ; an A buffer (base set per step)
    .dsd dbblk, mem1d, base=B0, len=KB * NB             ; a B buffer (base set per step)
    .dsd daout, fabout, color=A_OUT, len=MB * KB
    .dsd dain, fabin, color=A_IN, len=MB * KB
    .dsd dbout, fabout, color=B_OUT, len=KB * NB
    .dsd dbin, fabin, color=B_IN, len=KB * NB
    .endif

    ; ---- code -----------------------------------------------------------------------------
main:
    .rep 8, i                                           ; b0..b7: mem1d of MB fp16 (their
    ldsd b(i), dacol                                    ; bases are set per group: setb)
    .endr
    ldsd d5, db32
    ldsd a5, db16
    fh2s d5, a5                                         ; B0 = fp32(host's B block)
    addi r5, r0, A
    addi r6, r0, A1
    addi r7, r0, B0
    addi r8, r0, B
    addi r9, r0, P - 1
    ldsd d6, dsink
    ldsd a6, dsink
    .if P > 1
    ldsd d1, daout
    ldsd a1, dablk
    ldsd d2, dablk
    ldsd a2, dain
    ldsd d3, dbout
    ldsd a3, dbblk
    ldsd d4, dbblk
    ldsd a4, dbin
    .endif

step:
    .if P > 1
    beq r9, r0, compute                                 ; the last step has no shift
    addi r10, r0, 5                                     ; 4 fabric ops + this compute
    dsdbase a1, r5
    mov16 d1, a1 async ut0 activate ja_out              ; A_cur -> the next PE
    dsdbase d2, r6
    mov16 d2, a2 async ut1 activate ja_in               ; A_nxt <- the previous PE
    dsdbase a3, r7
    mov32 d3, a3 async ut2 activate jb_out              ; B_cur -> the next PE
    dsdbase d4, r8
    mov32 d4, a4 async ut3 activate jb_in               ; B_nxt <- the previous PE
    .endif
compute:
    .rep NG, g
    G = min(8, KB - 8 * g)
    .rep G, i
    addi r2, r5, (8 * g + i) * MB                       ; column 8g + i of A_cur
    setb i, r2
    .endr
    ldsd d0, dc
    ldsd a0, dc
    addi r3, r7, 16 * g                                 ; &B_cur[8g, 0]
    addi r4, r0, NB
cols:
    .rep G, i
    mac i
    .endr
    dsdaddi d0, 2 * MB                                  ; the next column of C
    dsdaddi a0, 2 * MB
    addi r3, r3, 2 * KB                                 ; &B_cur[8g, j + 1]
    addi r4, r4, -1
    bne r4, r0, cols
    .endr
    fmovs d6, a6                                        ; wait for the datapath: the last
                                                        ; async fmachs have read A_cur/B_cur
    beq r9, r0, done                                    ; the last step: C is complete

joined:                                                 ; one of the step's 5 events
    addi r10, r10, -1
    bne r10, r0, done
    mov r2, r5                                          ; all done: swap the buffers
    mov r5, r6
    mov r6, r2
    mov r2, r7
    mov r7, r8
    mov r8, r2
    addi r9, r9, -1
    b step
done:
    exit

    .data
C:  .zero MB * NB, f32
B0: .space KB * NB, f32
B:  .space KB * NB, f32
A:  .space MB * KB, f16
A1: .space MB * KB, f16
sink: .space 1, f32
    .export C, A
    .export B, f16, KB * NB
.endprogram

.place gemm, 0, 0, P, P
