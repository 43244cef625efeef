/* wse.h: the public C API of the wse emulator core.
 *
 * This one header is both compiled into the core and given to cffi's cdef (keep it plain:
 * typedefs, an opaque handle, prototypes, integer #defines and enums; no macros with bodies,
 * no includes that cdef would have to parse).
 *
 * Rules: there is no global mutable state. Everything hangs off the opaque wse_fabric handle.
 * Every call returns a status code (enum wse_status); wse_message() gives the text of the last
 * error or report of that handle (valid until the next call on it; a fault, hang, watchdog or
 * wse_state_report text has no length limit: it grows as it needs, and if host memory runs out
 * while it is written its last line says it is cut). docs/timing.md is the specification the core implements;
 * docs/emulator.md describes this API.
 *
 * Names: the reports carry every name whole (tasks, DSDs, files, macros: the image's own
 * strings). The fixed-size text fields of the structs below (wse_fault_info's task_name, file,
 * insn, reason and recent_insn, wse_wait's task_name) and the caller's buffer of wse_disasm
 * hold a value whole when it fits; else as much of it as fits, cut at a UTF-8 character
 * boundary, followed by "..." (so a reader knows it was cut, and the rest is a prefix of the
 * true value). The whole values: the report (wse_message), the image's symbols (a task's name:
 * wse_symbol_at), its LINES (wse_source), its DSD names (wse_dsd_name).
 *
 * Errors, the same in every call (tests/emu/test_c_api.py checks each call against them):
 * - Every status other than WSE_OK, WSE_PAUSED and WSE_YIELD replaces wse_message() with its
 *   own text (never the text of an earlier error). With a NULL handle a call returns
 *   WSE_BAD_ARG and there is no message to set (wse_message(NULL) is "no fabric"); so does
 *   wse_open, which has no handle yet.
 * - A PE (x, y) outside the fabric is WSE_BAD_ARG, "PE (x,y) is outside the WxH fabric"; a
 *   rectangle that is not inside it (or is empty) is WSE_BAD_ARG naming the rectangle and the
 *   fabric's size.
 * - A PE inside the fabric without a program: the calls that need its image or its router
 *   (wse_symbol, wse_symbol_count, wse_symbol_at, wse_source, wse_mem_read, wse_mem_write,
 *   wse_task_id, wse_send, and wse_symbol_rect for any PE of its rectangle) return
 *   WSE_NOT_FOUND, "PE (x,y) has no program". The calls that describe a PE's state answer for
 *   every PE of the fabric: wse_pe_placed (0), wse_pe_stats (pes = 0, every counter 0) and
 *   wse_pe_state_get (placed = 0). wse_launch and wse_launch_name skip such PEs (WSE_NOT_FOUND
 *   when no PE of the rectangle has the task).
 * - A required pointer that is NULL is WSE_BAD_ARG, "wse_call: a null what"; so is a NULL
 *   buffer with a count above 0 (a NULL buffer with count 0 is fine). The out-parameters that
 *   the comments call optional (wse_info's, wse_symbol's value/count/type, wse_symbol_at's
 *   type, wse_task_id's tid) may be NULL. A count, address or index range that does not fit
 *   what it indexes is WSE_BAD_ARG with both in the message (start + n may not wrap).
 * - WSE_NOMEM always says what could not grow. wse_pe_placed, wse_is_idle, wse_cycle,
 *   wse_received_count and wse_trace_count return values, not statuses (0 for a NULL handle or
 *   a PE outside the fabric); wse_disasm (a NULL out) and wse_peek (NULL data), which take no
 *   handle, return WSE_BAD_ARG (wse_peek writes its reasons into err, when it gets one).
 */
#ifndef WSE_H
#define WSE_H

/* 7: a PE outside the fabric is WSE_BAD_ARG in every call (wse_symbol, wse_mem_read,
   wse_mem_write, wse_task_id and wse_send returned WSE_NOT_FOUND), and every error sets the
   message (wse_source, wse_load, wse_*_read, wse_fault_get, wse_stats_get did not) */
/* 8: wse_dsd_name, and where a DSR comes from in wse_dsr_state (dsd, ldsd_pc, changed,
   changed_op, changed_pc); the fault info's reason is 1024 bytes */
/* 9: wse_wait.n_targets_more; the text of a hang, watchdog or wse_state_report grows as it
   needs */
/* 10: wse_trace_open and WSE_TRACE_OPEN: the spans still open where a run stopped */
/* 11: the pc of wse_fault_info and wse_pe_state is long long: a pc outside the code at or past
   2^31 (a jump through a register) was -1, "none", there */
#define WSE_API_VERSION 11

typedef struct wse_fabric wse_fabric;

enum wse_status {
    WSE_OK = 0,          /* done; for wse_run: the fabric is idle */
    WSE_BAD_ARG = 1,     /* a bad argument (message says which) */
    WSE_LOAD_ERROR = 2,  /* the object file is malformed (message says where and why) */
    WSE_FAULT = 3,       /* the program broke a rule; wse_fault_get() has the details */
    WSE_HANG = 4,        /* nothing can happen any more but the fabric is not idle */
    WSE_WATCHDOG = 5,    /* the cycle counter reached max_cycles */
    WSE_NOMEM = 6,       /* out of memory */
    WSE_NOT_FOUND = 7,   /* no such symbol / task / PE */
    WSE_PAUSED = 8,      /* wse_run stopped at its stop_at boundary */
    WSE_YIELD = 9        /* wse_run_slice / wse_run_timed used up its slice at a cycle boundary; call again */
};

enum wse_fault_kind {
    WSE_FK_NONE = 0,
    WSE_FK_MEM_RANGE = 1,     /* an address outside SRAM */
    WSE_FK_MISALIGNED = 2,    /* a 32-bit access at an odd word address */
    WSE_FK_WRITE_CODE = 3,    /* a store into the code region */
    WSE_FK_DSD_LENGTH = 4,    /* DSD operand element counts differ */
    WSE_FK_DSD_KIND = 5,      /* a DSR that is empty, or of the wrong kind for its place */
    WSE_FK_ROUTE = 6,         /* a wavelet entered a router through a port not in rx, or no route */
    WSE_FK_EMPTY_PE = 7,      /* a wavelet reached a PE with no program */
    WSE_FK_UT_BUSY = 8,       /* an async op on a busy microthread */
    WSE_FK_QUEUE_BUSY = 9,    /* two concurrent ops on one color */
    WSE_FK_ILLEGAL = 10,      /* an illegal instruction */
    WSE_FK_TRAP = 11,         /* the trap instruction */
    WSE_FK_PC_RANGE = 12,     /* the pc left the code */
    WSE_FK_TASK = 13,         /* activation of an undefined task */
    WSE_FK_DSD_INDEX = 14     /* ldsd with an index outside the image's DSD table (no longer happens:
                                 wse_load refuses such an object; kept so the numbers stay) */
};

/* Ports (bit masks) as in the object format. */
#define WSE_API_PORT_NORTH 1
#define WSE_API_PORT_EAST 2
#define WSE_API_PORT_SOUTH 4
#define WSE_API_PORT_WEST 8
#define WSE_API_PORT_RAMP 16

typedef struct wse_fault_info {
    int kind;                 /* enum wse_fault_kind */
    int x, y;                 /* the PE */
    int task;                 /* running task id, -1 if none */
    long long pc;             /* pc of the instruction, -1 if none (a pc outside the code, up to
                                 2^32-1 after a jump through a register, is whole) */
    unsigned long long cycle; /* the cycle in which it happened */
    unsigned int word;        /* the instruction word (0 if none) */
    int line, column;         /* source line (0 if unknown) */
    int color;                /* the color for route/queue faults, else -1 */
    int port;                 /* the port for route faults, else 0 */
    long long address;        /* the offending address for memory faults, else -1 */
    unsigned int code;        /* trap code */
    /* the text fields: whole when they fit, else cut with "..." at the end (see Names above);
       the report (wse_message) has them all whole */
    char task_name[64];
    char file[256];
    char insn[96];            /* the instruction disassembled (task operands by name where the
                                 image has them: `activate done`) */
    char reason[1024];        /* (a DSR is named with the DSD it was loaded from) */
    /* the last instructions the PE's main thread executed before the fault, oldest first (at
       most 16, across tasks; the faulting one is not among them): own cycle, pc, word */
    /* the microthread (0..7) whose async op faulted after its issue: task, task_name, pc,
       word, insn and the line are then the op's issue; -1: none */
    int microthread;
    int n_recent;
    unsigned long long recent_cycle[16];
    unsigned int recent_pc[16];
    unsigned int recent_word[16];
    char recent_insn[16][96]; /* their text, task operands named as in insn (cut as insn) */
} wse_fault_info;

typedef struct wse_stats {
    unsigned long long cycles;
    unsigned long long instructions;
    unsigned long long busy_cycles;
    unsigned long long idle_cycles;
    unsigned long long wavelets_sent;
    unsigned long long wavelets_received;
    unsigned long long wavelet_hops;
    unsigned long long stalls;
    unsigned long long tasks;
    unsigned long long tensor_elements;
    unsigned long long host_in;
    unsigned long long host_out;
    unsigned long long pes;   /* placed PEs */
} wse_stats;

typedef struct wse_host_wavelet {
    unsigned int x, y, port, color, payload, ctrl;
    unsigned long long cycle;
} wse_host_wavelet;

typedef struct wse_qentry {
    unsigned int payload;
    unsigned int ctrl;
    unsigned long long ready;
} wse_qentry;

typedef struct wse_dsr_state {
    int kind, color;
    long long base;
    unsigned int len[4];
    int stride[4];
    /* where it comes from: dsd, the DSD table entry the last ldsd loaded it from (-1: no ldsd
       did; its name: wse_dsd_name) and ldsd_pc, that ldsd's pc; changed, what changed since
       (bit 0 the base, by dsdbase/dsdadd/dsdaddi; bit 1 the length, by dsdlen), and
       changed_op, changed_pc: the opcode and pc of the last instruction that changed it
       (0 and -1 when none did; all of them when dsd is -1) */
    int dsd, ldsd_pc, changed, changed_op, changed_pc;
} wse_dsr_state;

/* A snapshot of one PE (see docs/emulator.md). Queues: n*[c] entries of q*[c][..]. */
typedef struct wse_pe_state {
    int placed;
    unsigned int regs[16];
    long long pc;             /* -1 when no task runs (whole when it left the code: up to 2^32-1) */
    int task;                 /* -1 when no task runs */
    unsigned long long activated, blocked;
    wse_dsr_state dsrs[24];
    int has_route[24];
    int switch_pos[24];
    int n_rb[24], n_oq[24], n_iq[24];
    wse_qentry rb[24][8];
    wse_qentry oq[24][8];
    wse_qentry iq[24][8];
    int ut_busy[8];
    int ut_opcode[8];
    unsigned int ut_done[8], ut_total[8];
    unsigned long long instructions, busy_cycles, wavelets_sent, wavelets_received, stalls;
} wse_pe_state;

/* Trace events (recorded only while tracing is on). kind: 1 task span (a = task id),
   2 tensor op span (a = opcode, b = microthread, 8 for the main thread), 3 wavelet arrival at
   the RAMP (a = color, b = payload). A span is recorded when it ends; wse_trace_open gives the
   ones still open, with WSE_TRACE_OPEN set in their kind. */
typedef struct wse_trace_event {
    int kind;
    unsigned int x, y;
    unsigned int a, b;
    unsigned long long t0, t1;
} wse_trace_event;

/* Who waits on whom at a hang (wse_waits). Each CE thread stuck on the fabric is one wait: */
enum wse_wait_kind {
    WSE_WAIT_FABIN = 1,       /* a fabric op reads the color and its input queue is empty */
    WSE_WAIT_FABOUT = 2,      /* a fabric op writes the color and its output queue is full */
    WSE_WAIT_SEND = 3         /* a send / sendc waits for room in the color's output queue */
};
/* where the color's path toward a FABIN wait ends when no CE sends it (its dead ends) */
enum wse_dead_end {
    WSE_DEAD_EDGE = 0,        /* the route at (x, y) takes it from outside the fabric (the host) */
    WSE_DEAD_NO_PROGRAM = 1,  /* the neighbour (x, y) it would come from has no program */
    WSE_DEAD_NOT_TOWARD = 2,  /* the route of PE (x, y) does not send it on toward the wait */
    WSE_DEAD_NO_ROUTE = 3,    /* the waiting PE (x, y) has no route for the color */
    WSE_DEAD_NO_RAMP = 4      /* the waiting PE's route does not deliver it to its CE */
};

#define WSE_WAIT_MAX 4096     /* waits analysed at a hang (wse_waits_info.truncated beyond) */
#define WSE_WAIT_TARGETS 64   /* targets kept per wait */

typedef struct wse_wait {
    unsigned int x, y;        /* the PE whose CE waits */
    int microthread;          /* 0..7: an async op on that microthread; -1: the main thread */
    int kind;                 /* enum wse_wait_kind */
    int color;                /* the color it reads (FABIN) or writes (FABOUT, SEND) */
    int task;                 /* the task running the send or op (for an async op, the one that
                                 issued it); -1: none */
    int pc;                   /* the pc of the send or op (of its issue), -1: none */
    int deadlock;             /* 1: the wait is an edge of the cycle of waits (the deadlock) */
    /* ends[first_target ..+n_targets]: the PEs whose CEs are at the other end of the color's
       routes (upstream: whose RAMP feeds the route toward this PE; downstream, for FABOUT and
       SEND: whose RAMP it reaches), row-major, at most WSE_WAIT_TARGETS; their `what` is 1 when
       nothing is running or activated there, else 0 */
    unsigned int first_target, n_targets;
    /* the CEs at the other end beyond the WSE_WAIT_TARGETS kept (the nearest along the route
       are kept): 0 when all are */
    unsigned int n_targets_more;
    /* ends[first_dead ..+n_dead]: a FABIN wait with no target: where its path ends (row-major,
       `what` an enum wse_dead_end); n_dead is 0 when n_targets is not */
    unsigned int first_dead, n_dead;
    char task_name[64];       /* the task's name ("" if none; "..." at the end when cut: see
                                 Names above) */
} wse_wait;

typedef struct wse_wait_end {
    unsigned int x, y;
    int what;
} wse_wait_end;

typedef struct wse_waits_info {
    int hang;                 /* 1: the last run ended in WSE_HANG; else every field is 0 */
    int status;               /* 0: complete; 1: out of host memory, no waits; 2: out of host
                                 memory looking for the cycle of waits (waits complete) */
    int truncated;            /* 1: more CE threads waited than the WSE_WAIT_MAX analysed */
    unsigned int n_waits, n_ends, n_cycle;
} wse_waits_info;

int wse_api_version(void);
int wse_open(unsigned int width, unsigned int height, int arch, wse_fabric **out);
void wse_close(wse_fabric *f);
const char *wse_message(const wse_fabric *f);

/* Object files. wse_peek reads the header only (arch, width, height) after full validation
   of the header and checksum. */
int wse_peek(const unsigned char *data, unsigned long long len, int *arch, unsigned int *width,
             unsigned int *height, char *err, unsigned int err_len);
int wse_load(wse_fabric *f, const unsigned char *data, unsigned long long len);

/* Fabric facts. */
int wse_info(const wse_fabric *f, unsigned int *width, unsigned int *height, int *arch,
             unsigned long long *clock_hz, unsigned int *sram_words);
int wse_pe_placed(const wse_fabric *f, unsigned int x, unsigned int y);

/* Symbols: looked up in the image of PE (x, y). type as in the object format. */
int wse_symbol(wse_fabric *f, unsigned int x, unsigned int y, const char *name,
               unsigned int *value, unsigned int *count, int *type);
/* Writes into wse_message the state of the PEs that are doing or waiting for something (as in
   a hang or watchdog report: running task, pc, source line, registers, pending ops, queued
   wavelets), headed "state at cycle N:"; for a run stopped by the host (Ctrl-C). */
int wse_state_report(wse_fabric *f);
/* The source position of the instruction at pc in the image of PE (x, y), from the object's
   LINES and EXPANSIONS: depth 0 gives the instruction's own file, line and column (macro
   NULL); depth k >= 1 the k-th macro invocation or .rep iteration it comes from, innermost
   first: the macro's name and where it was invoked, or macro "" and the iteration of the
   .rep at that position. WSE_NOT_FOUND when there is no such position (no line information,
   or fewer than k levels). The strings live until the next load. */
int wse_source(const wse_fabric *f, unsigned int x, unsigned int y, unsigned int pc,
               unsigned int depth, const char **file, unsigned int *line, unsigned int *column,
               const char **macro, unsigned int *iteration);
/* Host memory access: n words at addr of PE (x, y); takes no cycles. */
int wse_mem_read(wse_fabric *f, unsigned int x, unsigned int y, unsigned int addr,
                 unsigned int n, unsigned short *out);
int wse_mem_write(wse_fabric *f, unsigned int x, unsigned int y, unsigned int addr,
                  unsigned int n, const unsigned short *in);
/* By symbol over a rectangle: buf holds h*w*words words, row-major over PEs, `words` per PE
   starting at the symbol's address; write != 0 copies buf into the PEs. */
int wse_symbol_rect(wse_fabric *f, const char *name, unsigned int x0, unsigned int y0,
                    unsigned int w, unsigned int h, unsigned int words, unsigned short *buf,
                    int write);

/* The symbols of PE (x, y)'s image: *n of them (wse_symbol_count), and the i-th's name (valid
   until the next load) and type (wse_symbol_at; WSE_BAD_ARG for i >= n). */
int wse_symbol_count(wse_fabric *f, unsigned int x, unsigned int y, unsigned int *n);
int wse_symbol_at(wse_fabric *f, unsigned int x, unsigned int y, unsigned int i, const char **name,
                  int *type);
/* The PEs whose image has the symbol `name`, row-major: kind 0 any symbol, 1 data symbols only,
   2 tasks only. *n gets how many; xy gets the first min(n, cap) as x, y pairs (2 * cap
   unsigned ints; NULL with cap 0 for the count alone). */
int wse_symbol_pes(wse_fabric *f, const char *name, int kind, unsigned int *xy,
                   unsigned long long cap, unsigned long long *n);

/* The name of DSD table entry i of PE (x, y)'s image ("" when it has none; valid until the
   next load); WSE_BAD_ARG for i past the table. */
int wse_dsd_name(wse_fabric *f, unsigned int x, unsigned int y, unsigned int i, const char **name);

/* Tasks. */
int wse_task_id(wse_fabric *f, unsigned int x, unsigned int y, const char *name, int *tid);
int wse_launch(wse_fabric *f, int tid, unsigned int x0, unsigned int y0, unsigned int w,
               unsigned int h);
/* The same by name: on every PE of the rectangle whose image has a task of that name (its id
   may differ from image to image); refused, changing nothing, if one of them is a data task. */
int wse_launch_name(wse_fabric *f, const char *name, unsigned int x0, unsigned int y0,
                    unsigned int w, unsigned int h);

/* Host streams: queue n wavelets to enter PE (x, y) through its outward edge port. */
int wse_send(wse_fabric *f, unsigned int x, unsigned int y, unsigned int port,
             unsigned int color, const unsigned int *payloads, unsigned int n, int ctrl);
unsigned long long wse_received_count(const wse_fabric *f);
int wse_received_read(const wse_fabric *f, unsigned long long start, unsigned long long n,
                      wse_host_wavelet *out);

/* Running. stop_at: execute every cycle < stop_at, then return WSE_PAUSED (~0ULL: none).
   max_cycles: WSE_WATCHDOG when the cycle counter reaches it (0: none). */
int wse_run(wse_fabric *f, unsigned long long stop_at, unsigned long long max_cycles);
/* wse_run in slices: returns WSE_YIELD at a cycle boundary after `slice` visited cycles
   (0: no limit), so that the caller can react (Ctrl-C) and call again; the slices of one run
   give exactly the run that wse_run would. The fabric's own internal caches are left as they
   are at a yield: call wse_run(f, wse_cycle(f), 0) (no cycle executed) before reading state
   when a run is abandoned there. */
int wse_run_slice(wse_fabric *f, unsigned long long stop_at, unsigned long long max_cycles,
                  unsigned long long slice);
/* The same in slices of host time: returns WSE_YIELD at the first cycle boundary after about
   `ns` nanoseconds (0: no limit) and at least one visited cycle. The time is looked at only
   between cycles, so a slice can be longer by the rest of one visited cycle (on a fabric whose
   every CE runs 4096 local instructions in the same cycle: ~0.1 s for 64x64 PEs); the slices
   of one run give exactly the run that wse_run would, wherever they end. What Fabric.run uses
   so that Ctrl-C stops a run within a fraction of a second. */
int wse_run_timed(wse_fabric *f, unsigned long long stop_at, unsigned long long max_cycles,
                  unsigned long long ns);
unsigned long long wse_cycle(const wse_fabric *f);
/* 1 when the fabric is idle now (timing.md "Ending a run" and its Clarifications), else 0. */
int wse_is_idle(const wse_fabric *f);
int wse_fault_get(const wse_fabric *f, wse_fault_info *out);
/* The waits of the last run's hang, as its report's "who waits on whom" section prints them
   (the section is printed from these records). info gets the counts. waits, ends and cycle may
   each be NULL with a capacity 0 (the counts alone); else they need room for n_waits, n_ends
   and n_cycle entries (WSE_BAD_ARG otherwise). cycle: the PEs of the first cycle of waits in
   order, each waiting on the next and the last on the first; its `what` is the index of the
   first wait of that PE whose targets hold the next. After a run that did not hang, and
   after a load, info is all 0. */
int wse_waits(wse_fabric *f, wse_waits_info *info, wse_wait *waits, unsigned int cap_waits,
              wse_wait_end *ends, unsigned int cap_ends, wse_wait_end *cycle,
              unsigned int cap_cycle);

/* Statistics and state. */
int wse_stats_get(const wse_fabric *f, wse_stats *out);
int wse_pe_stats(const wse_fabric *f, unsigned int x, unsigned int y, wse_stats *out);
/* mem_out: NULL, or room for sram_words words (filled when the PE is placed). */
int wse_pe_state_get(const wse_fabric *f, unsigned int x, unsigned int y, wse_pe_state *out,
                     unsigned short *mem_out);

/* Tracing. */
int wse_trace_enable(wse_fabric *f, int on);
/* Record only the events of the PEs in the rectangle (x0, y0, w, h) whose span meets the cycles
   [c0, c1) (an instant event: c0 <= t < c1). Default: the whole fabric, every cycle. The
   rectangle must lie inside the fabric and c0 < c1; events already recorded are kept. */
int wse_trace_window(wse_fabric *f, unsigned int x0, unsigned int y0, unsigned int w, unsigned int h,
                     unsigned long long c0, unsigned long long c1);
unsigned long long wse_trace_count(const wse_fabric *f);
int wse_trace_read(const wse_fabric *f, unsigned long long start, unsigned long long n,
                   wse_trace_event *out);
/* The spans open at the fabric's cycle: what a run that stopped before they ended (at stop_at,
   a yield, the watchdog, a hang, a fault) leaves running, as the events their ends would record,
   cut at t1, with WSE_TRACE_OPEN or'd into kind: WSE_TRACE_OPEN | 1, a PE's running task (t0:
   the cycle it was picked); WSE_TRACE_OPEN | 2, a fabric op in progress on its main thread
   (b = 8) or an async op on microthread b (t0: the op's first cycle). t1 is wse_cycle(f), the
   first cycle not run; after a fault wse_cycle(f) + 1 (the fabric stopped inside that cycle),
   and for the main thread that faulted (its task and op) the fault's cycle + 1 when that is
   later (it runs ahead, timing.md). Only spans with t0 < t1 (an op that has not started yet is
   left out) and inside the trace window (wse_trace_window: the PE in its rectangle, [t0, t1)
   meeting its cycles), whether tracing is on or not. Order: the PEs row-major; on each, its
   task, the main thread's op, microthreads 0..7. Nothing is recorded: a run that goes on
   records each span once, when it ends. *count gets how many there are (0 before a load);
   out gets [start, start + n) of them (NULL with n 0 for the count alone). */
#define WSE_TRACE_OPEN 16
int wse_trace_open(const wse_fabric *f, unsigned long long start, unsigned long long n,
                   wse_trace_event *out, unsigned long long *count);

/* Disassemble one instruction word (for reports); a text longer than out_len - 1 bytes ends
   with "..." (see Names above). */
int wse_disasm(unsigned int word, char *out, unsigned int out_len);

/* fp16 <-> fp32 conversions the core uses (exposed for tests). */
unsigned int wse_f16_to_f32(unsigned int h);
unsigned int wse_f32_to_f16(unsigned int f);

#endif /* WSE_H */
