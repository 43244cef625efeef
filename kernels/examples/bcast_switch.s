; bcast_switch.s: broadcast a vector along a row, then use the same color for the replies,
; by switching every router with one control wavelet.
;
;   PE 0 multicasts v (N fp32) to PEs 1 .. P-1 on color C_ROW, then sends one control wavelet
;   behind it. At each router the control wavelet (1) is delivered to the CE, where it
;   activates task `done` (its payload is done's id), and (2) advances the router's switch
;   to position 1 as it leaves, which turns color C_ROW around: West-bound, towards PE 0.
;   `done` computes out = v * x and sends one acknowledgement wavelet (payload x) West;
;   PE 0 counts them in `acks` and adds their payloads in `xsum`.
;
;   wse-as kernels/examples/bcast_switch.s -o bcast.wso -D P=4 -D N=8
;
;@ define P=4
;@ define N=8
;
; Defines: P (>= 2) PEs in the row (the fabric is P x 1), N elements of v.
; Layout:  one program, `row`, on the whole row; PE 0 is the root.
; Colors:  C_ROW = 5 only. Routes (position 0 -> position 1):
;            PE 0         ramp -> east           ->  east -> ramp
;            PE 1..P-2    west -> ramp | east    ->  east | ramp -> west
;            PE P-1       west -> ramp           ->  ramp -> west
; Tasks:   PE 0:    main (local, at load): send v, then the control wavelet (payload T_DONE).
;                   ack  (data task on C_ROW): acks += 1, xsum += payload.
;          PE 1..:  main (local, at load): receive v (synchronous fabric read of N elements).
;                   done (control, id T_DONE): out = v * x; send x West on C_ROW.
; Memory:  v f32[N] (host writes it on PE 0; received on the others), out f32[N],
;          acks u32, xsum u32 (PE 0: P-1 and 1 + 2 + ... + (P-1) at the end).
.ifndef P
.error "define P and N (see the header)"
.endif

.fabric P, 1

C_ROW = 5
T_DONE = 1                              ; the id of `done`: PE 0 uses it as the payload

.program row
    .if pe_x == 0
        .route C_ROW, ramp -> east, east -> ramp
    .elif pe_x < rect_w - 1
        .route C_ROW, west -> ramp | east, east | ramp -> west
    .else
        .route C_ROW, west -> ramp, ramp -> west
    .endif

    .dsd dv,   mem1d, base=v, len=N
    .dsd dout, mem1d, base=out, len=N

    .if pe_x == 0
    .dsd vout, fabout, color=C_ROW, len=N
    .task main, local, start
    .task ack, data, color=C_ROW
main:
    ldsd d0, vout
    ldsd a0, dv
    fmovs d0, a0                        ; v -> the row (multicast: one wavelet per element)
    addi r2, r0, T_DONE
    sendc C_ROW, r2                     ; behind the data: activates done, flips the switches
    exit
ack:                                    ; r1 = the x of the PE that acknowledged
    ld32 r2, [acks]
    addi r2, r2, 1
    st32 r2, [acks]
    ld32 r2, [xsum]
    add r2, r2, r1
    st32 r2, [xsum]
    exit

    .else
    .dsd vin, fabin, color=C_ROW, len=N
    .task main, local, start
    .task done, control, id=T_DONE
main:
    ldsd d0, dv
    ldsd a0, vin
    fmovs d0, a0                        ; receive v
    exit
done:                                   ; activated by PE 0's control wavelet
    li r3, float(pe_x)
    ldsd d0, dout
    ldsd a0, dv
    fmuls d0, a0, r3                    ; out = v * x
    addi r2, r0, pe_x
    send C_ROW, r2                      ; the router is at position 1 now: West-bound
    exit
    .endif

    .data
v:    .zero N, f32
out:  .zero N, f32
acks: .u32 0
xsum: .u32 0
    .export v, out, acks, xsum
.endprogram

.place row, 0, 0, P, 1
