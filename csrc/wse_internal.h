/* wse_internal.h: the core's private data structures (not part of the API). */
#ifndef WSE_INTERNAL_H
#define WSE_INTERNAL_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include "wse.h"
#include "wse_isa.h"

#define NCOLORS WSE_MAX_COLORS   /* array and mask sizes: the largest counts of any preset (isa/) */
#define NTASKS WSE_MAX_TASK_IDS
#define NUT WSE_MAX_MICROTHREADS
#define NHIST 16                 /* = the size of wse_fault_info.recent_* */
#define QCAP WSE_MAX_QUEUE_DEPTH   /* ring slots per queue; every preset's depths fit (isa/table.py) */
#define RUN_MAX 4096
#define NEVER UINT64_MAX
#define MSG_LEN 65536

_Static_assert(NCOLORS < 32 && NTASKS <= 64 && NUT <= 8,
               "colors, tasks and microthreads are bit masks in uint32_t (rotated by NCOLORS), "
               "uint64_t and uint8_t (isa/table.py checks the presets against these limits)");
#define COLOR_MASK ((uint32_t)((1ull << NCOLORS) - 1))   /* every color */
_Static_assert(QCAP > 0 && (QCAP & (QCAP - 1)) == 0, "queue rings index with & (QCAP - 1)");

typedef struct { uint64_t ready; uint32_t payload; uint32_t ctrl; } wl_t;

/* A FIFO of at most `cap` (<= QCAP) wavelets in a ring of QCAP slots. The slots live in the
   owning col_t (see there), so the three queue headers of a color share one cache line. */
typedef struct { uint8_t head, n, cap, pad; wl_t *w; } q_t;

static inline wl_t *q_head(q_t *q) { return &q->w[q->head]; }
static inline void q_push(q_t *q, uint32_t payload, uint32_t ctrl, uint64_t ready) {
    wl_t *w = &q->w[(q->head + q->n) & (QCAP - 1)];
    w->payload = payload; w->ctrl = ctrl; w->ready = ready; q->n++;
}
static inline void q_pop(q_t *q) { q->head = (q->head + 1) & (QCAP - 1); q->n--; }

/* Per (PE, color) router state. The first 64 bytes (route, switch position, toggle and the
   three queue headers) are what a router visit reads; the ring slots follow. The array of a
   PE's col_t is 64-byte aligned (CACHE_LINE) and the size is a multiple of it. */
#define CACHE_LINE 64
typedef struct {
    uint8_t color, npos, pos, iqid, oqid, toggle;
    uint8_t rx[4], tx[4];
    q_t rb, oq, iq;              /* .w point into slots[0], [1], [2] (set by q_init_cols) */
    wl_t slots[3][QCAP];
} col_t;

/* point the queue headers of cols[0..n) at their slots */
static inline void q_init_cols(col_t *cols, uint32_t n) {
    for (uint32_t k = 0; k < n; k++) {
        cols[k].rb.w = cols[k].slots[0]; cols[k].oq.w = cols[k].slots[1]; cols[k].iq.w = cols[k].slots[2];
    }
}

/* An instruction's row of the ISA table (wse_isa.h, generated from isa/isa.toml), and the rows
   indexed by opcode: a constant table, so the lookup is one load (no table built at run time). */
typedef struct { uint8_t op; uint32_t mask, match; uint8_t cls, sync, form, td, t0, t1; const char *mn; } insn_desc_t;
#define WSE_INSN_ROW_(NAME, OPC, MASK, MATCH, CLS, SYNC, FORM, TD, T0, T1, MN) \
    [OPC] = { OPC, MASK, MATCH, CLS, SYNC, FORM, TD, T0, T1, MN },
static const insn_desc_t WSE_INSN_BY_OP[256] = { WSE_INSN_LIST(WSE_INSN_ROW_) };
#undef WSE_INSN_ROW_
/* the row of opcode op, NULL when no instruction has it */
static inline const insn_desc_t *wse__insn_by_op(uint8_t op) {
    return WSE_INSN_BY_OP[op].mn ? &WSE_INSN_BY_OP[op] : NULL;
}

/* predecoded instruction */
typedef struct {
    uint8_t op, r1, r2, r3, rs, act, ut, tid;
    int32_t imm;
    uint32_t word;
} dinsn_t;

typedef struct { uint8_t kind, color, ndim; uint32_t base; uint32_t len[4]; int32_t stride[4]; } dsd_t;
typedef struct { uint32_t addr, n; uint16_t *w; } chunk_t;
typedef struct { uint8_t defined, kind, color, flags; uint32_t entry; } task_t;
typedef struct { uint8_t color, npos, iq, oq; uint8_t rx[4], tx[4]; } route_t;
typedef struct { const char *name; uint32_t value, count; uint8_t type; } sym_t;
/* via: 0 outside macros, else 1 + the index in wse_fabric_t.sites of the innermost macro
   invocation the instructions come from */
typedef struct { uint32_t pc; const char *file; uint32_t line, col, via; } line_t;
/* a macro invocation, or with macro "" iteration `iteration` of a .rep (EXPANSIONS): parent is
   0 or 1 + the index of the one it is in */
typedef struct { const char *macro, *file; uint32_t line, col, parent, iteration; } site_t;

typedef struct image {
    const char *name;
    uint32_t mem_words, n_code;
    dinsn_t *dec;
    uint32_t n_chunks; chunk_t *chunks;
    uint32_t n_dsd; dsd_t *dsd;
    const char **dsd_name;        /* n_dsd names ("": the DSD has none), into the strtab copy */
    task_t tasks[NTASKS];
    uint64_t local_mask;          /* local and control tasks */
    uint64_t data_mask;           /* data tasks */
    int8_t data_task_of_color[NCOLORS];
    uint32_t n_routes; route_t *routes;
    uint32_t n_syms; sym_t *syms;
    uint32_t n_lines; line_t *lines;
} image_t;

/* DSR state: same layout as a DSD (kind 0 = never loaded) */
typedef dsd_t dsr_t;

/* Where a DSR's contents come from (fault and hang reports, wse_pe_state): the DSD table entry
   the last ldsd loaded it from (dsd1 = entry + 1; 0: no ldsd loaded it) and that ldsd's pc;
   what changed since (chg: bit 0 the base, by dsdbase/dsdadd/dsdaddi; bit 1 the length, by
   dsdlen), and the opcode and pc of the last instruction that changed it. */
typedef struct { uint32_t dsd1, pc, chg_pc; uint8_t chg, chg_op; } dsr_src_t;

/* a tensor operation in progress (fabric operand, or async). The first OP_STEP_BYTES bytes are
   what a fabric op's step reads per element, decoded at issue (pe_t.mop starts 8 bytes into a
   cache line, so that they share that line with pe_t.mem); the operand DSRs come last. */
typedef struct {
    uint8_t opcode;
    uint8_t fab;              /* bit 0: src0 is fabin, bit 1: src1 is fabin, bit 2: dst is fabout */
    uint8_t ed, ea, eb;       /* element sizes in words of dst, src0, src1 (from the ISA
                                 table's element types; ea, eb 0: the op has no such source) */
    int8_t sd, sa, sb;        /* index in pe_t.cols of the route of the color of dst, src0,
                                 src1 when fabout or fabin (-1: the PE has none) */
    uint8_t lin;              /* bit 0, 1, 2: dst, src0, src1 is a mem1d DSD whose step fits 32
                                 bits: its element i is at base[k] + i * step[k] */
    uint8_t busy, act;
    uint8_t kind;             /* fab_step's specialised path for this op (FK in wse_core.c), 0: none */
    uint32_t n, done;
    uint32_t rs;
    uint64_t finish_t;        /* when it completes (known once its last element is done) */
    uint32_t base[3];         /* dst, src0, src1 (when lin says so) */
    int32_t step[3];          /* stride * element size */
    uint64_t start_t;
    uint32_t colors;          /* fabric colors it uses */
    uint32_t pc;
    uint8_t tid;
    int8_t issuer;            /* the task that issued it (fault reports) */
    dsr_t d, a, b;
    dsr_src_t src[3];         /* where d, a, b come from, at issue (reports) */
} op_t;
#define OP_STEP_BYTES 56

enum { M_IDLE = 0, M_RUN = 1, M_SEND = 2, M_FABOP = 3 };

typedef struct pe {
    /* --- hot: read by (nearly) every router visit and CE event. A busy cycle visits thousands
       of PEs, so these share the first cache lines of the struct (64-byte aligned). --- */
    col_t *cols;
    uint32_t qmask;             /* colors with a wavelet in rb or oq */
    uint32_t parked;            /* colors whose candidate waits on a full queue (see park_t) */
    uint32_t idx;
    uint32_t ncols;             /* entries in cols */
    uint8_t in_ract;            /* in the active router list (or queued to join) */
    uint8_t mstate;
    uint8_t ut_mask;            /* microthreads holding an op */
    uint8_t hq_ports;           /* bit pi: host wavelets wait to enter through port pi */
    uint32_t nbparked;          /* a superset of the colors a neighbour has parked: set when one
                                   parks, cleared when a move unparks them (see router_step) */
    struct pe *nb[4];           /* neighbours N E S W (NULL: off the fabric or empty) */
    image_t *img;
    int8_t cslot[NCOLORS];      /* index in cols of each color's route, -1: none */
    uint8_t nb_edge[4];         /* 1 when that port points off the fabric (to the host) */
    uint64_t sched_t;           /* dedupe: last time queued in the calendar */
    uint64_t visit_t;           /* dedupe: last time visited in phase 2 */
    uint64_t next_t;
    uint64_t st_hops, st_stalls, st_recv, st_sent, st_elems;
    int32_t task;
    uint32_t pc;
    _Alignas(CACHE_LINE) uint16_t *mem;   /* (hot: with the step fields of mop, one cache line) */
    op_t mop;
    /* --- the rest --- */
    uint32_t x, y;
    uint32_t regs[16];
    /* the last NHIST instructions the main thread executed (own cycle, pc), for fault reports;
       hist_n counts them all (the ring holds the last NHIST) */
    uint32_t hist_n;
    struct { uint64_t t; uint32_t pc; } hist[NHIST];
    uint64_t activated, blocked;
    uint64_t task_start;
    uint32_t send_payload; uint8_t send_color, send_ctrl;
    /* the cycle from which the PE's SIMD datapath is free: memory-only tensor ops, on the main
       thread or a microthread, run one after another on it (timing.md, Instruction costs) */
    uint64_t dp_free;
    /* run accounting (instructions count at their own cycle) */
    uint64_t run_t0;
    uint32_t run_n;
    uint32_t run_nx;            /* entries in run_x */
    uint32_t run_xcap;
    uint32_t *run_x;            /* pairs (index in run, extra cost) for instructions costing > 1 */
    /* host injection queues, per port N E S W */
    uint32_t hq_n[4], hq_head[4], hq_cap[4];
    uint64_t *hq[4];            /* (ctrl << 40) | (color << 32) | payload */
    /* stats */
    uint64_t st_instr, st_busy, st_tasks;
    /* trace: start of the tensor op span on the main thread */
    uint64_t tr_op_t0;
    /* parked colors: the first cycle whose stall is not yet counted in st_stalls */
    uint64_t park_t[NCOLORS];
    dsr_t dsr[WSE_NUM_DSRS];
    dsr_src_t dsr_src[WSE_NUM_DSRS];
    op_t ut[NUT];
} pe_t;

typedef struct { uint64_t *v; size_t n, cap; } u64vec;

/* A text that grows as it needs (the reports, and the parts they are made of: an instruction's
   text, where it comes from, a fault's reason), so that nothing in it is cut: names are whole.
   When host memory runs out it stops there and its last line says so (wse__text_app). Empty:
   all zero; s is NULL until something is appended. */
typedef struct { char *s; size_t n, cap; int cut; } text_t;

#define CAL 64

typedef struct wse_fabric {
    uint32_t W, H;
    int arch;
    wse_preset P;
    uint32_t sram_words;
    pe_t **pes;                 /* W*H pointers, NULL for empty PEs */
    /* after a load of a large fabric, the pe_t + col_t of every placed PE, in index order, live
       in one block asking for huge pages (a busy cycle touches every PE, and separate
       allocations cost TLB misses); NULL: each has its own allocations */
    void *pe_block_map; size_t pe_block_len;
    uint32_t n_placed;
    image_t *images; uint32_t n_images;
    void *arena;                /* loader allocations (strings etc.) */
    char *strtab; size_t strtab_len;
    site_t *sites; uint32_t n_sites;   /* EXPANSIONS (in the arena) */
    int loaded;
    uint64_t t;
    uint64_t last_active;       /* 1 + last cycle in which something happened */
    int resuming;               /* the last run returned WSE_YIELD: the next goes on with it */
    /* host work done by runs (never reset): +1 per visited cycle, router in the active list
       and CE event scheduled for the cycle (counted per cycle, not in the CE's visit), + each
       run's instructions, + a memory-only tensor op's elements / 8. It only tells
       wse_run_timed when to look at the clock; the emulation never reads it. */
    uint64_t work;
    int happened;
    int faulted;
    /* an allocation that a run needed failed (what it was for; NULL: none) and the cycle: the
       state is incomplete, so the run stops with WSE_NOMEM and the fabric must be loaded again */
    const char *oom; uint64_t oom_t;
    /* routers */
    uint32_t *ract; size_t ract_n, ract_cap;
    uint32_t *rnew; size_t rnew_n, rnew_cap;
    /* phase 1 writes the routers that stay active to ract2 (then the two swap); late: routers
       that rejoin during phase 1 behind the visit in progress (an unpark), to be visited in
       this cycle, ascending, from late_h */
    uint32_t *ract2; size_t ract2_cap;
    uint32_t *late; size_t late_h, late_n, late_cap;
    uint64_t next_router_t;
    /* rwake[i]: the router of PE i has nothing to do before this cycle: no unparked rb/oq head
       is ready before it and no host wavelet waits (a lower bound, lowered by every push; the
       visits before it are skipped, see phase1). One dense array, so that skipping a router
       does not touch its pe_t. */
    uint64_t *rwake;
    /* where the current cycle is (for the stalls owed by parked colors): phase 0 between
       cycles, 1 routers (visiting PE index cur_r), 2 CEs; park_rem: on a fault during the visit
       of cur_r, the colors that visit had not reached yet */
    int phase;
    uint32_t cur_r, park_rem;
    /* phase 2: the microthread whose op is stepping or completing, -1: none (fault reports) */
    int cur_ut;
    /* CE events: calendar of buckets for the next CAL cycles and a heap beyond */
    /* bucket k is a bitmap over PE indices (cal_nw words at cal_bm + k * cal_nw; bit i of the
       summary word j, at cal_sum + k * cal_ns, says word 64 j + i is non-zero): an insertion is
       O(1), a PE scheduled twice for the same cycle is one entry, and the phase reads the
       bucket in ascending index order without sorting */
    uint64_t *cal_bm, *cal_sum;
    uint32_t cal_nw, cal_ns;
    uint32_t cal_n[CAL];        /* entries in each bucket */
    uint64_t cal_t[CAL];        /* time the bucket holds (valid when non-empty) */
    u64vec heap;                /* entries: (t << 21) | pe index ... stored as pairs */
    /* counters */
    uint64_t buffered;          /* wavelets in rb, oq, iq */
    uint64_t host_pending;
    uint64_t cycle_stalls;      /* stalls in the current cycle */
    uint32_t *stall_pes; size_t stall_n, stall_cap;
    uint64_t *sort_tmp; size_t sort_cap;   /* scratch for sorting PE indices */
    /* stats */
    uint64_t st_hops, st_host_in, st_host_out;
    /* host output */
    wse_host_wavelet *out; size_t out_n, out_cap;
    /* trace */
    int tracing;
    wse_trace_event *tr; size_t tr_n, tr_cap;
    uint32_t tr_x0, tr_y0, tr_w, tr_h;      /* the window of wse_trace_window */
    uint64_t tr_c0, tr_c1;
    /* reports */
    wse_fault_info fault;
    /* the last run's hang: who waits on whom (wse_waits), dropped when a run starts and at load */
    wse_wait *hw; wse_wait_end *he, *hc;
    uint32_t hw_n, he_n, hc_n;
    int hw_hang, hw_status, hw_trunc;
    /* the text of an error (wse__set_msg, bad_arg): short; one that does not fit ends "..." */
    char msg[MSG_LEN];
    /* the text of a fault, hang, watchdog or wse_state_report (rep_app): it grows as the report
       needs, so a report is never cut silently; wse_message gives it while rep_live */
    text_t rep;
    int rep_live;
    /* the last fault's whole reason (fault.reason holds as much of it as fits) */
    text_t why;
} wse_fabric_t;

/* wse_load.c */
int wse__load(wse_fabric_t *f, const uint8_t *data, size_t len);
void wse__free_program(wse_fabric_t *f);
void wse__set_msg(wse_fabric_t *f, const char *fmt, ...);
/* dst (n bytes) = src when it fits; else as much of it as fits with "..." after it, cut at a
   UTF-8 character boundary, so that a reader knows it was cut (every fixed-size text field of
   the API is filled by this) */
void wse__copy_cut(char *dst, size_t n, const char *src);
/* buf (n bytes) holds the first n - 1 bytes of a longer text (vsnprintf cut it): end it with
   "..." the same way */
void wse__mark_cut(char *buf, size_t n);
void wse__arena_free(void *arena);

/* fp16 <-> fp32 */
static inline uint32_t f16_to_f32_bits(uint32_t h) {
    uint32_t s = (h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0) {
        if (m == 0) return s;
        int sh = 0;
        while (!(m & 0x400u)) { m <<= 1; sh++; }
        m &= 0x3ffu;
        return s | ((uint32_t)(113 - sh) << 23) | (m << 13);
    }
    if (e == 31) return s | 0x7f800000u | (m << 13);
    return s | ((e + 112u) << 23) | (m << 13);
}

static inline uint32_t f32_to_f16_bits(uint32_t x) {
    uint32_t s = (x >> 16) & 0x8000u, a = x & 0x7fffffffu;
    if (a > 0x7f800000u) return 0x7e00u;
    if (a >= 0x477ff000u) return s | 0x7c00u;
    if (a >= 0x38800000u) {
        uint32_t r = a + 0xfffu + ((a >> 13) & 1u);
        return s | ((r - 0x38000000u) >> 13);
    }
    if (a < 0x33000000u) return s;
    uint32_t e = a >> 23, m = (a & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126u - e;
    uint32_t r = m >> shift, rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (r & 1u))) r++;
    return s | r;
}

#endif
