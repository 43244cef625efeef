/* wse_core.c: the cycle model of docs/timing.md.
 *
 * Time advances cycle by cycle, but only cycles in which something can happen are simulated:
 * phase 1 visits the routers that hold wavelets (kept in a sorted active list; a router whose
 * heads cannot be ready yet is skipped, f->rwake, and a color whose candidate waits on a full
 * queue is parked until that queue pops, its stalls counted lazily, see unpark; a router whose
 * colors are all parked leaves the list until an unpark or a push, ract_rejoin), phase 2 visits
 * the compute engines that have an event (a calendar of bitmap buckets, one per cycle for the
 * next CAL cycles, read in PE index order, and a binary heap beyond). A cycle in which nothing
 * happens makes time jump to the next event.
 * Local instructions execute in runs (one dispatch loop over predecoded instructions); a tensor
 * op over memory is one C loop; fabric ops move one element per cycle.
 * Memory layout: after the load of a large fabric the pe_t + col_t of all PEs live in one
 * huge-page block in index order (relocate_pes; separate allocations cost a TLB miss per
 * structure per visit). Neither phase prefetches: the PEs of a busy stretch of cycles stay in
 * the caches, and software prefetches (with the loads they need) made the SmolLM2 decode ~6%
 * slower.
 */
#define _DEFAULT_SOURCE 1
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include "wse_internal.h"
#if defined(__linux__)
#include <sys/mman.h>
#define WSE_HAVE_MMAP 1
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define WSE_HAVE_F16C_PATH 1
#endif

int wse__decode(uint32_t w, dinsn_t *d);

static const wse_preset PRESETS[WSE_NUM_PRESETS] = WSE_PRESETS_INIT;

#define PN WSE_PORT_NORTH
#define PE_ WSE_PORT_EAST
#define PS WSE_PORT_SOUTH
#define PW WSE_PORT_WEST
#define PR WSE_PORT_RAMP

/* ------------------------------------------------------------------------------------------ */
/* small utilities                                                                            */

static int vec_push(u64vec *v, uint64_t x) {
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 64;
        uint64_t *nv = (uint64_t *)realloc(v->v, nc * sizeof(uint64_t));
        if (!nv) return -1;
        v->v = nv; v->cap = nc;
    }
    v->v[v->n++] = x;
    return 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < need) nc *= 2;
    void *np = realloc(*p, nc * elem);
    if (!np) return -1;
    *p = np; *cap = nc;
    return 0;
}

static inline float bf(uint32_t b) { float r; memcpy(&r, &b, 4); return r; }
static inline uint32_t fb(float r) { uint32_t b; memcpy(&b, &r, 4); return b; }
static inline uint32_t canon_s(float r) { return r != r ? 0x7fc00000u : fb(r); }
static inline float hf(uint32_t h) { return bf(f16_to_f32_bits(h & 0xffffu)); }
static inline uint32_t to_h(float r) { return f32_to_f16_bits(fb(r)); }
static inline float fmax_ieee(float a, float b) {
    if (a != a || b != b) return bf(0x7fc00000u);
    if (a > b) return a;
    if (b > a) return b;
    return signbit(a) ? b : a;
}
static inline float fmin_ieee(float a, float b) {
    if (a != a || b != b) return bf(0x7fc00000u);
    if (a < b) return a;
    if (b < a) return b;
    return signbit(a) ? a : b;
}

unsigned int wse_f16_to_f32(unsigned int h) { return f16_to_f32_bits(h & 0xffffu); }
unsigned int wse_f32_to_f16(unsigned int f) { return f32_to_f16_bits(f); }
int wse_api_version(void) { return WSE_API_VERSION; }

/* ------------------------------------------------------------------------------------------ */
/* texts: growable (text_t), and the copies into the API's fixed-size fields                  */

/* Room kept free at the end of a text for the line that says it is cut. */
#define TEXT_RESERVE 128
#define TEXT_CUT_NOTE "(not enough host memory for the rest of this report: it is cut here)"

/* the text stops here: host memory ran out (its last line says so) */
static void text_stop(text_t *b) {
    b->cut = 1;
    if (!b->s) return;                      /* (text_str gives the note alone) */
    /* every append leaves TEXT_RESERVE bytes free, so the note fits */
    snprintf(b->s + b->n, b->cap - b->n, "%s" TEXT_CUT_NOTE "\n", b->n && b->s[b->n - 1] != '\n' ? "\n" : "");
    b->n += strlen(b->s + b->n);
}

static void text_vapp(text_t *b, const char *fmt, va_list ap) {
    if (b->cut) return;
    va_list aq;
    va_copy(aq, ap);
    int w = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (w <= 0) return;
    size_t need = b->n + (size_t)w + 1 + TEXT_RESERVE;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need) cap *= 2;
        char *r = realloc(b->s, cap);
        if (!r) { text_stop(b); return; }
        b->s = r; b->cap = cap;
    }
    vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
    b->n += (size_t)w;
}

/* append to the text (printf-style) */
static void text_app(text_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_app(text_t *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    text_vapp(b, fmt, ap);
    va_end(ap);
}

/* the text so far ("" when empty) */
static const char *text_str(const text_t *b) {
    return b->s ? b->s : b->cut ? TEXT_CUT_NOTE "\n" : "";
}

/* empty it (keeping its memory) */
static void text_clear(text_t *b) {
    b->n = 0; b->cut = 0;
    if (b->s) b->s[0] = 0;
}

static void text_free(text_t *b) { free(b->s); memset(b, 0, sizeof *b); }

/* the start of the UTF-8 character that byte k of s is in (s[0..k] is there to read; a
   character has at most 3 continuation bytes) */
static size_t utf8_start(const char *s, size_t k) {
    for (int i = 0; i < 3 && k && ((unsigned char)s[k] & 0xc0) == 0x80; i++) k--;
    return k;
}

void wse__mark_cut(char *buf, size_t n) {
    if (!n) return;
    if (n < 4) { memset(buf, '.', n - 1); buf[n - 1] = 0; return; }
    /* keep the bytes before the character that byte n - 4 is in, then "..." */
    size_t k = utf8_start(buf, n - 4);
    memcpy(buf + k, "...", 4);
}

void wse__copy_cut(char *dst, size_t n, const char *src) {
    if (!n) return;
    size_t len = strnlen(src, n);
    if (len < n) { memmove(dst, src, len + 1); return; }
    memmove(dst, src, n - 1);
    dst[n - 1] = 0;
    wse__mark_cut(dst, n);
}

/* The conventions of wse.h's header comment, in one place. The message is not part of the
   fabric's emulated state, so the calls that take a const handle set it too. */
static int bad_arg(const wse_fabric_t *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad_arg(const wse_fabric_t *f, const char *fmt, ...) {
    wse_fabric_t *m = (wse_fabric_t *)f;
    va_list ap;
    va_start(ap, fmt);
    m->rep_live = 0;
    int w = vsnprintf(m->msg, sizeof m->msg, fmt, ap);
    va_end(ap);
    if (w >= (int)sizeof m->msg) wse__mark_cut(m->msg, sizeof m->msg);
    return WSE_BAD_ARG;
}

/* a required pointer argument `what` of call `fn` is NULL */
static int null_arg(const wse_fabric_t *f, const char *fn, const char *what) {
    return bad_arg(f, "%s: a null %s", fn, what);
}

/* PE (x, y) as a call names it: WSE_BAD_ARG outside the fabric, WSE_NOT_FOUND for a PE without
   a program (each with its message), else WSE_OK with *out set */
static int pe_of(const wse_fabric_t *f, unsigned int x, unsigned int y, pe_t **out) {
    *out = NULL;
    if (x >= f->W || y >= f->H) return bad_arg(f, "PE (%u,%u) is outside the %ux%u fabric", x, y, f->W, f->H);
    pe_t *p = f->pes[(size_t)y * f->W + x];
    if (!p) { wse__set_msg((wse_fabric_t *)f, "PE (%u,%u) has no program", x, y); return WSE_NOT_FOUND; }
    *out = p;
    return WSE_OK;
}

static inline pe_t *pe_at(wse_fabric_t *f, int64_t x, int64_t y) {
    if (x < 0 || y < 0 || x >= (int64_t)f->W || y >= (int64_t)f->H) return NULL;
    return f->pes[(size_t)y * f->W + (size_t)x];
}

static const char *port_name(int port) {
    switch (port) {
    case PN: return "NORTH"; case PE_: return "EAST"; case PS: return "SOUTH";
    case PW: return "WEST"; case PR: return "RAMP"; default: return "?";
    }
}
static void ports_str(int mask, char *out, size_t n) {
    out[0] = 0;
    if (!mask) { snprintf(out, n, "{}"); return; }
    size_t k = 0;
    for (int b = 1; b <= 16; b <<= 1)
        if (mask & b) {
            int w = snprintf(out + k, n - k, "%s%s", k ? "," : "", port_name(b));
            if (w < 0 || (size_t)w >= n - k) break;
            k += (size_t)w;
        }
}

/* ------------------------------------------------------------------------------------------ */
/* disassembler (operand syntax from WSE_INSN_OPERANDS)                                      */

typedef struct { uint8_t op; const char *ops; } opsyn_t;
#define XO(NAME, OPS) { WSE_OP_##NAME, OPS },
static const opsyn_t OPSYN[] = { WSE_INSN_OPERANDS(XO) };
#undef XO

static const char *task_name(const image_t *img, int tid);

/* append the text of an instruction word; with img, task operands by their names where the
   image has them (`activate done`, as wse-objdump and the reference print them), else by id,
   and an ldsd's DSD by its name: whole, however long */
static void disasm_app(text_t *b, const image_t *img, unsigned int word);

int wse_disasm(unsigned int word, char *out, unsigned int out_len) {
    if (!out || !out_len) return WSE_BAD_ARG;
    text_t t = { 0 };
    disasm_app(&t, NULL, word);
    wse__copy_cut(out, out_len, text_str(&t));
    text_free(&t);
    return WSE_OK;
}

/* task tid's name in img, NULL when img is NULL or the task has none */
static const char *task_txt(const image_t *img, unsigned tid) {
    const char *tn = img ? task_name(img, (int)tid) : "";
    return *tn ? tn : NULL;
}

static void disasm_app(text_t *b, const image_t *img, unsigned int word) {
    dinsn_t d;
    if (!wse__decode(word, &d)) { text_app(b, ".word 0x%08x  ; illegal instruction", word); return; }
    const insn_desc_t *in = wse__insn_by_op(d.op);
    const char *ops = "";
    for (size_t i = 0; i < sizeof OPSYN / sizeof OPSYN[0]; i++) if (OPSYN[i].op == d.op) ops = OPSYN[i].ops;
    text_app(b, "%s", in->mn);
    char tok[16];
    int first = 1, async = 0;
    const char *p = ops;
    const uint32_t w = word;
    while (*p) {
        size_t l = 0;
        while (p[l] && p[l] != ',' && l < sizeof tok - 1) { tok[l] = p[l]; l++; }
        tok[l] = 0;
        p += l; if (*p == ',') p++;
        if (!strcmp(tok, "async")) { async = 1; continue; }     /* (after the operands) */
        text_app(b, "%s", first ? " " : ", ");
        first = 0;
        if (!strcmp(tok, "mem")) {
            int o = WSE_F_IMM16(w);
            if (o) text_app(b, "[r%u %c %d]", WSE_F_R2(w), o < 0 ? '-' : '+', o < 0 ? -o : o);
            else text_app(b, "[r%u]", WSE_F_R2(w));
        } else if (!strcmp(tok, "r1")) text_app(b, "r%u", WSE_F_R1(w));
        else if (!strcmp(tok, "r2")) text_app(b, "r%u", WSE_F_R2(w));
        else if (!strcmp(tok, "r3")) text_app(b, "r%u", WSE_F_R3(w));
        else if (!strcmp(tok, "rq")) text_app(b, "r%u", WSE_F_RQ(w));
        else if (!strcmp(tok, "rs")) text_app(b, "r%u", WSE_F_RS(w));
        else if (!strcmp(tok, "imm16")) text_app(b, "%d", WSE_F_IMM16(w));
        else if (!strcmp(tok, "off16")) text_app(b, ".%+d", WSE_F_OFF16(w));
        else if (!strcmp(tok, "uimm16")) { unsigned v = WSE_F_UIMM16(w); text_app(b, v > 9 ? "0x%x" : "%u", v); }
        else if (!strcmp(tok, "shamt")) text_app(b, "%u", WSE_F_SHAMT(w));
        else if (!strcmp(tok, "tgt24")) text_app(b, "%u", WSE_F_TGT24(w));
        else if (!strcmp(tok, "dsr")) { unsigned v = WSE_F_DSR(w); text_app(b, "%c%u", "dab"[v >> 3], v & 7); }
        else if (!strcmp(tok, "dsdidx")) {
            /* the DSD by name where the image has one (as wse-objdump prints it) */
            unsigned v = WSE_F_DSDIDX(w);
            if (img && v < img->n_dsd && img->dsd_name[v][0]) text_app(b, "%s", img->dsd_name[v]);
            else text_app(b, "%u", v);
        }
        else if (!strcmp(tok, "color")) text_app(b, "%u", WSE_F_COLOR(w));
        else if (!strcmp(tok, "tid")) {
            const char *tn = task_txt(img, WSE_F_TID(w));
            if (tn) text_app(b, "%s", tn);
            else text_app(b, "%u", WSE_F_TID(w));
        }
        else if (!strcmp(tok, "dd")) text_app(b, "d%u", WSE_F_DD(w));
        else if (!strcmp(tok, "da")) text_app(b, "a%u", WSE_F_DA(w));
        else if (!strcmp(tok, "db")) text_app(b, "b%u", WSE_F_DB(w));
        else text_app(b, "?%s", tok);
    }
    unsigned act = async ? WSE_F_ACT(w) : 0;
    if (act) {
        text_app(b, " async ut%u", WSE_F_UT(w));
        if (act >= 2) {
            const char *tn = task_txt(img, WSE_F_TID(w));
            if (tn) text_app(b, " %s %s", act == 2 ? "activate" : "unblock", tn);
            else text_app(b, " %s %u", act == 2 ? "activate" : "unblock", WSE_F_TID(w));
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* reports                                                                                    */

static const char *task_name(const image_t *img, int tid) {
    if (tid < 0) return "";
    for (uint32_t i = 0; i < img->n_syms; i++)
        if (img->syms[i].type == WSE_SYM_TASK && (int)img->syms[i].value == tid) return img->syms[i].name;
    return "";
}

/* The mnemonic of an opcode, from the generated ISA list. */
static const char *opcode_mnemonic(uint8_t opcode) {
    const insn_desc_t *in = wse__insn_by_op(opcode);
    return in ? in->mn : "?";
}

static const line_t *line_for(const image_t *img, uint32_t pc) {
    uint32_t lo = 0, hi = img->n_lines;
    const line_t *best = NULL;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (img->lines[mid].pc <= pc) { best = &img->lines[mid]; lo = mid + 1; } else hi = mid;
    }
    /* a record with an empty file marks instructions without a source position (a bare .loc) */
    return best && best->file && best->file[0] ? best : NULL;
}

/* the invocation of depth k >= 1 (innermost first) that line l's instructions come from */
static const site_t *via_at(const wse_fabric_t *f, const line_t *l, uint32_t k) {
    uint32_t v = l ? l->via : 0;
    while (v && v <= f->n_sites && --k) v = f->sites[v - 1].parent;
    return v && v <= f->n_sites ? &f->sites[v - 1] : NULL;
}

/* append pre, "file:line:col" of line l (nothing when l is NULL) and the macro invocations it
   comes from: on the same line (", in `m` at file:line:col" each), or with sep before each
   ("in expansion of macro `m` at ..."); post after it all */
static void where_app(const wse_fabric_t *f, text_t *b, const line_t *l, const char *pre, const char *sep,
                      const char *post) {
    if (!l) return;
    text_app(b, "%s%s:%u:%u", pre, l->file, l->line, l->col);
    /* every invocation, innermost first (the loader checks that a parent is an earlier record,
       so the chain ends) */
    for (uint32_t v = l->via; v && v <= f->n_sites; v = f->sites[v - 1].parent) {
        const site_t *s = &f->sites[v - 1];
        if (!s->macro[0] && sep) text_app(b, "%sin iteration %u of the `.rep` at %s:%u:%u", sep, s->iteration, s->file, s->line, s->col);
        else if (!s->macro[0]) text_app(b, ", in `.rep` iteration %u at %s:%u:%u", s->iteration, s->file, s->line, s->col);
        else if (sep) text_app(b, "%sin expansion of macro `%s` at %s:%u:%u", sep, s->macro, s->file, s->line, s->col);
        else text_app(b, ", in `%s` at %s:%u:%u", s->macro, s->file, s->line, s->col);
    }
    text_app(b, "%s", post);
}

/* append pre + "file:line:col" of the instruction at pc of p's image (nothing when it has none) */
static void pc_at_app(text_t *b, const pe_t *p, uint32_t pc, const char *pre) {
    const line_t *l = pc < p->img->n_code ? line_for(p->img, pc) : NULL;
    if (l) text_app(b, "%s%s:%u:%u", pre, l->file, l->line, l->col);
}

/* an ldsd loaded the DSR whose origin is src (src: p->dsr_src[i] or an op's copy) */
static int has_origin(const pe_t *p, const dsr_src_t *src) { return src->dsd1 && src->dsd1 <= p->img->n_dsd; }

/* append pre + where DSR contents come from, as the reference interpreter's dsr_origin prints
   it: "loaded from DSD `NAME` by the ldsd at pc P, file:line:col, in `m` at file:line:col"
   ("DSD N" for a DSD without a name; the ldsd's position and the macro invocations it comes
   from, when it has one), then "; base changed since, last by the dsdaddi at pc Q" when
   dsdbase/dsdadd/dsdaddi or dsdlen (the length) changed it; nothing (no pre) when no ldsd
   loaded it */
static void origin_app(const wse_fabric_t *f, text_t *b, const pe_t *p, const dsr_src_t *src, const char *pre) {
    if (!has_origin(p, src)) return;
    uint32_t i = src->dsd1 - 1;
    const char *nm = p->img->dsd_name[i];
    if (nm[0]) text_app(b, "%sloaded from DSD `%s` by the ldsd at pc %u", pre, nm, src->pc);
    else text_app(b, "%sloaded from DSD %u by the ldsd at pc %u", pre, i, src->pc);
    where_app(f, b, src->pc < p->img->n_code ? line_for(p->img, src->pc) : NULL, ", ", NULL, "");
    if (!src->chg) return;
    static const char *WHAT[4] = { "", "base", "length", "base and length" };
    text_app(b, "; %s changed since, last by the %s at pc %u", WHAT[src->chg & 3], opcode_mnemonic(src->chg_op),
             src->chg_pc);
}

/* append " (PRE loaded from DSD ...)" (origin_app in parentheses), nothing when no ldsd loaded it */
static void origin_paren_app(const wse_fabric_t *f, text_t *b, const pe_t *p, const dsr_src_t *src, const char *pre) {
    if (!has_origin(p, src)) return;
    text_app(b, " (");
    origin_app(f, b, p, src, pre);
    text_app(b, ")");
}

/* append " (loaded from DSD ...)" for a DSR of p, nothing when no ldsd loaded it */
static void dsr_paren_app(const wse_fabric_t *f, text_t *b, const pe_t *p, const dsr_src_t *src) {
    origin_paren_app(f, b, p, src, "");
}

int wse_source(const wse_fabric *f, unsigned int x, unsigned int y, unsigned int pc,
               unsigned int depth, const char **file, unsigned int *line, unsigned int *column,
               const char **macro, unsigned int *iteration) {
    if (!f) return WSE_BAD_ARG;
    if (!file || !line || !column || !macro || !iteration)
        return null_arg(f, "wse_source", !file ? "file" : !line ? "line" : !column ? "column" : !macro ? "macro" : "iteration");
    *file = NULL; *macro = NULL; *line = *column = *iteration = 0;
    pe_t *p;
    int st = pe_of(f, x, y, &p);
    if (st) return st;
    if (pc >= p->img->n_code)
        return bad_arg(f, "pc %u is outside the code of PE (%u,%u) (%u instructions)", pc, x, y, p->img->n_code);
    const line_t *l = line_for(p->img, pc);
    if (!l) {
        wse__set_msg((wse_fabric_t *)f, "PE (%u,%u) (image %s) has no source position for pc %u", x, y, p->img->name, pc);
        return WSE_NOT_FOUND;
    }
    if (!depth) { *file = l->file; *line = l->line; *column = l->col; return WSE_OK; }
    const site_t *s = via_at(f, l, depth);
    if (!s) {
        wse__set_msg((wse_fabric_t *)f, "the instruction at pc %u of PE (%u,%u) comes from fewer than %u macro "
                     "invocations or .rep iterations", pc, x, y, depth);
        return WSE_NOT_FOUND;
    }
    *file = s->file; *line = s->line; *column = s->col; *macro = s->macro; *iteration = s->iteration;
    return WSE_OK;
}

/* append pre and the registers of p that are not 0 (small values in decimal, others in hex),
   and a newline; nothing when all are 0 */
static void regs_app(text_t *b, const pe_t *p, const char *pre) {
    int any = 0;
    for (int r = 1; r < 16; r++) {
        uint32_t v = p->regs[r];
        if (!v) continue;
        int32_t sv = (int32_t)v;
        if (sv > -65536 && sv < 65536) text_app(b, "%s r%d=%d", any ? "" : pre, r, sv);
        else text_app(b, "%s r%d=0x%08x", any ? "" : pre, r, v);
        any = 1;
    }
    if (any) text_app(b, "\n");
}

/* The main thread runs its local instructions in runs, executed at the run's first cycle
   (timing.md), so when a fault elsewhere (a microthread, a router, another PE) stops the
   fabric, the history may hold instructions whose own cycle is later than the fault's:
   hist_skip counts those (the newest entries), hist_before the entries before cycle t. */
static uint32_t hist_skip(const pe_t *p, uint64_t t) {
    uint32_t have = p->hist_n < NHIST ? p->hist_n : NHIST, skip = 0;
    while (skip < have && p->hist[(p->hist_n - 1 - skip) & (NHIST - 1)].t >= t) skip++;
    return skip;
}
static uint32_t hist_before(const pe_t *p, uint64_t t) {
    uint32_t have = p->hist_n < NHIST ? p->hist_n : NHIST;
    return have - hist_skip(p, t);
}

/* the report text (f->rep): starts it, and appends to it. It grows as needed, so nothing is cut;
   when host memory runs out it stops there and says so in its last line (text_app) */
static void rep_start(wse_fabric_t *f) { text_clear(&f->rep); f->rep_live = 1; }
static void rep_app(wse_fabric_t *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rep_app(wse_fabric_t *f, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    text_vapp(&f->rep, fmt, ap);
    va_end(ap);
}

/* append to the report the nr instructions PE p executed before its newest skip ones, oldest
   first, one line each with its source line (and, with fi, record them in the fault info) */
static void hist_lines(wse_fabric_t *f, const pe_t *p, uint32_t nr, uint32_t skip, wse_fault_info *fi) {
    text_t txt = { 0 };
    for (uint32_t j = 0; j < nr; j++) {
        uint32_t slot = (p->hist_n - skip - nr + j) & (NHIST - 1), hpc = p->hist[slot].pc;
        uint32_t word = hpc < p->img->n_code ? p->img->dec[hpc].word : 0;
        if (fi) { fi->recent_cycle[j] = p->hist[slot].t; fi->recent_pc[j] = hpc; fi->recent_word[j] = word; }
        text_clear(&txt);
        if (hpc < p->img->n_code) disasm_app(&txt, p->img, word);
        else text_app(&txt, "?");
        if (fi) wse__copy_cut(fi->recent_insn[j], sizeof fi->recent_insn[j], text_str(&txt));
        rep_app(f, "    cycle %llu  pc %u: %s", (unsigned long long)p->hist[slot].t, hpc, text_str(&txt));
        const line_t *l = hpc < p->img->n_code ? line_for(p->img, hpc) : NULL;
        where_app(f, &f->rep, l, "    at ", NULL, "");
        rep_app(f, "\n");
    }
    text_free(&txt);
}

static const char *FK_NAMES[] = { "none", "memory access out of range", "misaligned access",
    "write to code", "DSD length mismatch", "bad DSD", "route fault", "wavelet reached an empty PE",
    "microthread busy", "queue busy", "illegal instruction", "trap", "pc out of code", "bad task",
    "DSD index out of range" };

/* Raise a fault at PE p (may be NULL) for the instruction at pc (-1: none; a pc outside the code,
   up to 2^32-1 after a jump through a register, is kept whole: the fault info's pc is long long). The report (f->rep)
   and the reason (f->why) are whole, with the image's own names; the fault info's text fields
   are copies of them that end "..." when they do not fit (wse__copy_cut). */
static void fault(wse_fabric_t *f, pe_t *p, int kind, long long pc, uint64_t t, const char *fmt, ...) {
    if (f->faulted) return;
    f->faulted = 1;
    wse_fault_info *fi = &f->fault;
    memset(fi, 0, sizeof *fi);
    fi->kind = kind; fi->cycle = t; fi->color = -1; fi->address = -1; fi->pc = pc; fi->task = -1;
    fi->x = p ? (int)p->x : -1; fi->y = p ? (int)p->y : -1;
    text_clear(&f->why);
    va_list ap;
    va_start(ap, fmt);
    text_vapp(&f->why, fmt, ap);
    va_end(ap);
    wse__copy_cut(fi->reason, sizeof fi->reason, text_str(&f->why));
    /* a fault of a router (phase 1) belongs to no task, whatever the PE's CE is running; one
       of an async op after its issue (ut_step) to the op: the task that issued it, its pc */
    int router = f->phase == 1;
    int ut = p && !router ? f->cur_ut : -1;
    fi->microthread = ut;
    const char *tn = "";
    if (p && !router) {
        fi->task = ut >= 0 ? p->ut[ut].issuer : p->task;
        tn = task_name(p->img, fi->task);
        wse__copy_cut(fi->task_name, sizeof fi->task_name, tn);
    }
    const line_t *l = NULL;
    text_t ins = { 0 };
    if (p) {
        if (pc >= 0 && (uint32_t)pc < p->img->n_code) {
            fi->word = p->img->dec[pc].word;
            disasm_app(&ins, p->img, fi->word);
            wse__copy_cut(fi->insn, sizeof fi->insn, text_str(&ins));
            l = line_for(p->img, (uint32_t)pc);
            if (l) { wse__copy_cut(fi->file, sizeof fi->file, l->file); fi->line = (int)l->line; fi->column = (int)l->col; }
        }
    }
    rep_start(f);
#define APP(...) rep_app(f, __VA_ARGS__)
    APP("fault at cycle %llu: %s\n", (unsigned long long)t, FK_NAMES[kind]);
    if (p) {
        APP("  PE (%u,%u)", p->x, p->y);
        if (router) APP(", its router");
        else if (ut >= 0) {
            APP(", microthread ut%d (async op issued by ", ut);
            if (fi->task >= 0) APP("task %d%s%s%s)", fi->task, tn[0] ? " (" : "", tn, tn[0] ? ")" : "");
            else APP("the host)");
        }
        else if (p->task >= 0) APP(", task %d%s%s%s", p->task, tn[0] ? " (" : "", tn, tn[0] ? ")" : "");
        else APP(", no task running");
        APP("\n");
        if (pc >= 0 && (uint32_t)pc < p->img->n_code) {
            APP("  pc %lld: %s", pc, text_str(&ins));
            where_app(f, &f->rep, l, "    at ", "\n      ", "");
            APP("\n");
        } else if (pc >= 0) {
            APP("  pc %lld: past the end of the code (%u instructions)\n", pc, p->img->n_code);
        }
    }
    text_free(&ins);
    APP("  reason: %s\n", text_str(&f->why));
    if (p && !router && ut < 0) regs_app(&f->rep, p, "  registers:");
    uint32_t nr = p ? hist_before(p, t) : 0;
    if (nr) {
        if (nr == 1) APP("  the last instruction PE (%u,%u) executed before:\n", p->x, p->y);
        else APP("  the last %u instructions PE (%u,%u) executed before (oldest first):\n", nr, p->x, p->y);
        hist_lines(f, p, nr, hist_skip(p, t), fi);
        fi->n_recent = (int)nr;
    } else if (p && p->hist_n) {
        uint32_t have = p->hist_n < NHIST ? p->hist_n : NHIST;
        APP("  (the last %u instructions PE (%u,%u)'s main thread executed are at cycles %llu-%llu, after "
            "the fault: it runs local instructions ahead, timing.md)\n", have, p->x, p->y,
            (unsigned long long)p->hist[(p->hist_n - have) & (NHIST - 1)].t,
            (unsigned long long)p->hist[(p->hist_n - 1) & (NHIST - 1)].t);
    }
#undef APP
}

/* append to the fault's reason (after fault(): f->why, and its copy in the fault info) */
static void fault_reason_app(wse_fabric_t *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fault_reason_app(wse_fabric_t *f, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    text_vapp(&f->why, fmt, ap);
    va_end(ap);
    wse__copy_cut(f->fault.reason, sizeof f->fault.reason, text_str(&f->why));
}

/* append to the fault report the last (up to 4) instructions of PE q, the neighbour a faulting
   wavelet came from: the report's PE is the receiver, whose own history is usually unrelated */
static void fault_add_sender(wse_fabric_t *f, const pe_t *q) {
    uint32_t nr = q ? hist_before(q, f->fault.cycle) : 0;
    if (!nr) return;
    if (nr > 4) nr = 4;
    if (nr == 1) rep_app(f, "  the wavelet came from PE (%u,%u), whose last instruction was:\n", q->x, q->y);
    else rep_app(f, "  the wavelet came from PE (%u,%u), whose last %u instructions were (oldest first):\n",
                 q->x, q->y, nr);
    hist_lines(f, q, nr, hist_skip(q, f->fault.cycle), NULL);
}

/* the main thread executed the instruction at pc in cycle t (see pe_t.hist) */
static inline void hist_add(pe_t *p, uint32_t pc, uint64_t t) {
    uint32_t k = p->hist_n++ & (NHIST - 1);
    p->hist[k].t = t; p->hist[k].pc = pc;
}

/* ------------------------------------------------------------------------------------------ */
/* CE event scheduling                                                                        */

/* a growth that the emulation needs failed: remember the first (see wse_fabric_t.oom) */
static void nomem(wse_fabric_t *f, const char *what) {
    if (!f->oom) { f->oom = what; f->oom_t = f->t; }
}

static void heap_push(wse_fabric_t *f, uint64_t key) {
    u64vec *h = &f->heap;
    if (vec_push(h, key)) { nomem(f, "the event calendar"); return; }
    size_t i = h->n - 1;
    while (i) {
        size_t par = (i - 1) / 2;
        if (h->v[par] <= key) break;
        h->v[i] = h->v[par]; i = par;
    }
    h->v[i] = key;
}
static uint64_t heap_pop(u64vec *h) {
    uint64_t top = h->v[0], last = h->v[--h->n];
    size_t i = 0, n = h->n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && h->v[c + 1] < h->v[c]) c++;
        if (h->v[c] >= last) break;
        h->v[i] = h->v[c]; i = c;
    }
    if (n) h->v[i] = last;
    return top;
}

static inline void cal_add(wse_fabric_t *f, uint32_t k, uint32_t i) {
    uint64_t *w = &f->cal_bm[(size_t)k * f->cal_nw + (i >> 6)], bit = 1ull << (i & 63);
    if (*w & bit) return;
    *w |= bit;
    f->cal_sum[(size_t)k * f->cal_ns + (i >> 12)] |= 1ull << ((i >> 6) & 63);
    f->cal_n[k]++;
}

/* empty bucket k */
static void cal_clear(wse_fabric_t *f, uint32_t k) {
    uint64_t *bm = f->cal_bm + (size_t)k * f->cal_nw, *sum = f->cal_sum + (size_t)k * f->cal_ns;
    for (uint32_t j = 0; j < f->cal_ns; j++)
        for (uint64_t sw = sum[j]; sw; sw &= sw - 1) bm[j * 64 + (uint32_t)__builtin_ctzll(sw)] = 0;
    memset(sum, 0, f->cal_ns * sizeof *sum);
    f->cal_n[k] = 0;
}

/* (inline: every element of a fabric op schedules its PE for the next cycle) */
static inline void sched(wse_fabric_t *f, pe_t *p, uint64_t t) {
    if (t < f->t) t = f->t;
    if (p->sched_t == t) return;
    p->sched_t = t;
    if (t - f->t < CAL) {
        f->cal_t[t & (CAL - 1)] = t;
        cal_add(f, (uint32_t)(t & (CAL - 1)), p->idx);
    } else {
        heap_push(f, (t << 24) | p->idx);
    }
}

static uint64_t next_event_t(wse_fabric_t *f) {
    uint64_t best = NEVER;
    for (int i = 0; i < CAL; i++)
        if (f->cal_n[i] && f->cal_t[i] < best) best = f->cal_t[i];
    if (f->heap.n && (f->heap.v[0] >> 24) < best) best = f->heap.v[0] >> 24;
    return best;
}

/* p->in_ract: 0 not active, 1 in ract (or f->late), 2 in rnew only (joins at the next cycle) */
/* (ract_add is called for every wavelet pushed into a neighbour, which is mostly active
   already: the test is inline, the rest out of line) */
static __attribute__((noinline)) void ract_join(wse_fabric_t *f, pe_t *p) {
    p->in_ract = 2;
    if (grow((void **)&f->rnew, &f->rnew_cap, f->rnew_n + 1, sizeof(uint32_t))) { nomem(f, "the list of active routers"); return; }
    f->rnew[f->rnew_n++] = p->idx;
}
static inline void ract_add(wse_fabric_t *f, pe_t *p) {
    if (!p->in_ract) ract_join(f, p);
}

/* Parked colors. docs/timing.md counts one stall per waiting router candidate per cycle. A
   candidate that waits because a destination queue is full (a neighbour's rb[c], or its own
   iq[c]) keeps waiting, cycle after cycle, until that queue pops or that neighbour's route
   position for c changes (nothing else can let it move or make it fault: its own tx and the
   full queue's contents are frozen until then). Re-evaluating such candidates every cycle was
   the largest cost of busy fabrics, so the router *parks* the color instead: visits skip it
   (p->parked), and the stalls of the cycles it spends parked are added to st_stalls when the
   event that may free it happens (unpark) or when the run returns (flush_parked). The stall of
   the cycle in which it parked is counted as usual; a candidate that only waits for a tx port
   used this cycle is never parked. The counts are those of the per-cycle evaluation:
   a parked color owes one stall for every cycle from park_t up to the last one whose router
   visit of its PE has already happened. */

/* has the router visit of p for color c happened in the current cycle f->t? */
static inline int visited_now(const wse_fabric_t *f, const pe_t *p, uint32_t c) {
    if (f->phase == 2) return 1;
    if (f->phase != 1) return 0;
    return p->idx < f->cur_r || (p->idx == f->cur_r && !((f->park_rem >> c) & 1));
}

/* A router whose colors are all parked (and no host wavelet waits) leaves the active list (its
   visits would all be skipped); an unpark brings it back: in phase 1, behind the router being
   visited, it is visited in this cycle (as a skipped router of the list would be), otherwise
   it joins at the next cycle. */
static void ract_rejoin(wse_fabric_t *f, pe_t *p) {
    if (f->phase != 1 || p->idx <= f->cur_r) { ract_add(f, p); return; }
    /* (if it waits in rnew too, the merge drops that entry: in_ract is 1 by then) */
    if (grow((void **)&f->late, &f->late_cap, f->late_n + 1, sizeof(uint32_t))) { nomem(f, "the list of active routers"); return; }
    p->in_ract = 1;
    size_t k = f->late_n++;
    while (k > f->late_h && f->late[k - 1] > p->idx) { f->late[k] = f->late[k - 1]; k--; }
    f->late[k] = p->idx;
}

static void unpark(wse_fabric_t *f, pe_t *p, uint32_t c) {
    uint64_t end = f->t + (uint64_t)visited_now(f, p, c);
    p->st_stalls += end - p->park_t[c];
    p->parked &= ~(1u << c);
    f->rwake[p->idx] = 0;             /* its router must look at c again */
    if (p->in_ract != 1) ract_rejoin(f, p);
}

/* something that may free p's parked color c happened (an iq[c] pop at p, or an rb[c] pop or
   a switch move at a neighbour) */
static inline void wake(wse_fabric_t *f, pe_t *p, uint32_t c) {
    if ((p->parked >> c) & 1) unpark(f, p, c);
}

/* when wse_run returns: every parked color pays what it owes and is unparked */
static void flush_parked(wse_fabric_t *f) {
    size_t n = (size_t)f->W * f->H;
    for (size_t i = 0; i < n; i++) {
        pe_t *p = f->pes[i];
        while (p && p->parked) unpark(f, p, (uint32_t)__builtin_ctz(p->parked));
    }
    f->phase = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* open / close / load                                                                        */

/* Large zeroed blocks, 2 MiB aligned and asking for transparent huge pages (mmap; calloc
   where there is none). *map is what block_free takes. */
#define HUGE_PAGE ((size_t)2 << 20)
static void *block_alloc(size_t len, void **map, size_t *map_len) {
#ifdef WSE_HAVE_MMAP
    size_t ml = len + HUGE_PAGE;
    void *m = mmap(NULL, ml, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return NULL;
    char *a = (char *)(((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
#ifdef MADV_HUGEPAGE
    if (len >= HUGE_PAGE) madvise(a, (len + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1), MADV_HUGEPAGE);
#endif
    *map = m; *map_len = ml;
    return a;
#else
    void *m = calloc(1, len + CACHE_LINE);
    if (!m) return NULL;
    *map = m; *map_len = len + CACHE_LINE;
    return (void *)(((uintptr_t)m + CACHE_LINE - 1) & ~(uintptr_t)(CACHE_LINE - 1));
#endif
}
static void block_free(void *map, size_t len) {
    if (!map) return;
#ifdef WSE_HAVE_MMAP
    munmap(map, len);
#else
    (void)len; free(map);
#endif
}

/* Move the pe_t and col_t of every placed PE into one block (see wse_fabric_t.pe_block_map).
   The stride is an odd number of cache lines, so that the same field of consecutive PEs does
   not map to the same few cache sets. Small fabrics, whose structures fit in a huge page, stay
   as loaded. The SRAMs stay where they are: a huge page would make the whole of every SRAM
   resident, where now only the pages a program touches are. On failure nothing moves. */
static void relocate_pes(wse_fabric_t *f) {
    size_t n = (size_t)f->W * f->H, np = 0, cols_max = 0;
    for (size_t i = 0; i < n; i++) {
        pe_t *p = f->pes[i];
        if (!p) continue;
        np++;
        if (p->ncols > cols_max) cols_max = p->ncols;
    }
    size_t pe_sz = (sizeof(pe_t) + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
    size_t col_sz = (cols_max ? cols_max : 1) * sizeof(col_t);
    size_t stride = (pe_sz + col_sz + CACHE_LINE - 1) / CACHE_LINE;
    if (!(stride & 1)) stride++;
    stride *= CACHE_LINE;
    if (stride * np < HUGE_PAGE) return;
    void *pm = NULL; size_t pl = 0;
    char *pb = (char *)block_alloc(stride * np, &pm, &pl);
    if (!pb) return;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        pe_t *p = f->pes[i];
        if (!p) continue;
        pe_t *q = (pe_t *)(void *)(pb + k * stride);
        col_t *qc = (col_t *)(void *)(pb + k * stride + pe_sz);
        memcpy(q, p, sizeof(pe_t));
        if (p->ncols) memcpy(qc, p->cols, p->ncols * sizeof(col_t));
        q_init_cols(qc, p->ncols);
        q->cols = qc;
        free(p->cols); free(p);
        f->pes[i] = q;
        k++;
    }
    f->pe_block_map = pm; f->pe_block_len = pl;
}

static void waits_clear(wse_fabric_t *f);

void wse__free_program(wse_fabric_t *f) {
    if (f->pes) {
        for (size_t i = 0; i < (size_t)f->W * f->H; i++) {
            pe_t *p = f->pes[i];
            if (!p) continue;
            free(p->mem); free(p->run_x);
            for (int k = 0; k < 4; k++) free(p->hq[k]);
            if (!f->pe_block_map) { free(p->cols); free(p); }
            f->pes[i] = NULL;
        }
    }
    block_free(f->pe_block_map, f->pe_block_len); f->pe_block_map = NULL; f->pe_block_len = 0;
    wse__arena_free(f->arena);
    f->arena = NULL; f->images = NULL; f->n_images = 0; f->sites = NULL; f->n_sites = 0; f->n_placed = 0; f->loaded = 0;
    f->t = 0; f->last_active = 0; f->resuming = 0; f->faulted = 0; f->oom = NULL; f->oom_t = 0;
    f->ract_n = 0; f->rnew_n = 0; f->late_h = f->late_n = 0;
    for (uint32_t k = 0; k < CAL; k++) if (f->cal_n[k]) cal_clear(f, k);
    f->heap.n = 0;
    f->buffered = 0; f->host_pending = 0;
    f->st_hops = f->st_host_in = f->st_host_out = 0;
    f->out_n = 0; f->tr_n = 0;
    memset(&f->fault, 0, sizeof f->fault);
    waits_clear(f);
}

int wse_open(unsigned int width, unsigned int height, int arch, wse_fabric **out) {
    if (!out) return WSE_BAD_ARG;
    *out = NULL;
    if (width < 1 || height < 1 || width > 4096 || height > 4096 || arch < 0 || arch >= WSE_NUM_PRESETS)
        return WSE_BAD_ARG;
    wse_fabric_t *f = (wse_fabric_t *)calloc(1, sizeof(wse_fabric_t));
    if (!f) return WSE_NOMEM;
    f->W = width; f->H = height; f->arch = arch; f->cur_ut = -1;
    f->tr_w = width; f->tr_h = height; f->tr_c1 = UINT64_MAX;
    f->P = PRESETS[arch];
    f->sram_words = f->P.sram_words;
    /* (the report starts with room: a fault or hang report only grows it) */
    f->rep.cap = MSG_LEN;
    f->rep.s = (char *)calloc(f->rep.cap, 1);
    f->pes = (pe_t **)calloc((size_t)width * height, sizeof(pe_t *));
    f->rwake = (uint64_t *)calloc((size_t)width * height, sizeof(uint64_t));
    f->cal_nw = (uint32_t)(((size_t)width * height + 63) / 64);
    f->cal_ns = (f->cal_nw + 63) / 64;
    f->cal_bm = (uint64_t *)calloc((size_t)CAL * f->cal_nw, sizeof(uint64_t));
    f->cal_sum = (uint64_t *)calloc((size_t)CAL * f->cal_ns, sizeof(uint64_t));
    if (!f->rep.s || !f->pes || !f->rwake || !f->cal_bm || !f->cal_sum) {
        free(f->rep.s); free(f->pes); free(f->rwake); free(f->cal_bm); free(f->cal_sum); free(f);
        return WSE_NOMEM;
    }
    *out = f;
    return WSE_OK;
}

void wse_close(wse_fabric *f) {
    if (!f) return;
    wse__free_program(f);
    free(f->pes); free(f->rwake);
    free(f->ract); free(f->rnew); free(f->ract2); free(f->late);
    free(f->cal_bm); free(f->cal_sum);
    free(f->heap.v); free(f->stall_pes); free(f->out); free(f->tr);
    free(f->sort_tmp); text_free(&f->rep); text_free(&f->why);
    free(f);
#ifdef __GLIBC__
    /* give the freed heap back to the system: glibc keeps it otherwise, and a process that
       opens and closes many fabrics (a notebook, a sweep) kept tens of GB resident */
    malloc_trim(0);
#endif
}

const char *wse_message(const wse_fabric *f) { return !f ? "no fabric" : f->rep_live ? text_str(&f->rep) : f->msg; }

int wse_load(wse_fabric *f, const unsigned char *data, unsigned long long len) {
    if (!f) return WSE_BAD_ARG;
    if (!data) return null_arg(f, "wse_load", "data");
    f->msg[0] = 0; f->rep_live = 0;
    int st = wse__load(f, data, (size_t)len);
    if (st != WSE_OK) return st;
    relocate_pes(f);
    memset(f->rwake, 0, (size_t)f->W * f->H * sizeof(uint64_t));   /* every router: look now */
    static const int DX[4] = { 0, 1, 0, -1 }, DY[4] = { -1, 0, 1, 0 };
    for (size_t i = 0; i < (size_t)f->W * f->H; i++) {
        pe_t *p = f->pes[i];
        if (!p) continue;
        for (int k = 0; k < 4; k++) {
            int64_t nx = (int64_t)p->x + DX[k], ny = (int64_t)p->y + DY[k];
            p->nb_edge[k] = nx < 0 || ny < 0 || nx >= (int64_t)f->W || ny >= (int64_t)f->H;
            p->nb[k] = p->nb_edge[k] ? NULL : f->pes[(size_t)ny * f->W + (size_t)nx];
        }
        if (p->activated & p->img->local_mask) sched(f, p, 0);
    }
    if (f->oom) { wse__set_msg(f, "out of host memory while loading (growing %s)", f->oom); return WSE_NOMEM; }
    return WSE_OK;
}

int wse_info(const wse_fabric *f, unsigned int *width, unsigned int *height, int *arch,
             unsigned long long *clock_hz, unsigned int *sram_words) {
    if (!f) return WSE_BAD_ARG;
    if (width) *width = f->W;
    if (height) *height = f->H;
    if (arch) *arch = f->arch;
    if (clock_hz) *clock_hz = f->P.clock_hz;
    if (sram_words) *sram_words = f->sram_words;
    return WSE_OK;
}

int wse_pe_placed(const wse_fabric *f, unsigned int x, unsigned int y) {
    if (!f || x >= f->W || y >= f->H) return 0;
    return f->pes[(size_t)y * f->W + x] != NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* host access                                                                                */

static const sym_t *find_sym(const image_t *img, const char *name) {
    for (uint32_t i = 0; i < img->n_syms; i++) if (!strcmp(img->syms[i].name, name)) return &img->syms[i];
    return NULL;
}

int wse_symbol(wse_fabric *f, unsigned int x, unsigned int y, const char *name,
               unsigned int *value, unsigned int *count, int *type) {
    if (!f) return WSE_BAD_ARG;
    if (!name) return null_arg(f, "wse_symbol", "name");
    pe_t *p;
    int st = pe_of(f, x, y, &p);
    if (st) return st;
    const sym_t *s = find_sym(p->img, name);
    if (!s) { wse__set_msg(f, "PE (%u,%u) (image %s) has no symbol '%s'", x, y, p->img->name, name); return WSE_NOT_FOUND; }
    if (value) *value = s->value;
    if (count) *count = s->count;
    if (type) *type = s->type;
    return WSE_OK;
}

int wse_symbol_count(wse_fabric *f, unsigned int x, unsigned int y, unsigned int *n) {
    if (!f) return WSE_BAD_ARG;
    if (!n) return null_arg(f, "wse_symbol_count", "count");
    *n = 0;
    pe_t *p;
    int st = pe_of(f, x, y, &p);
    if (st) return st;
    *n = p->img->n_syms;
    return WSE_OK;
}

int wse_dsd_name(wse_fabric *f, unsigned int x, unsigned int y, unsigned int i, const char **name) {
    if (!f) return WSE_BAD_ARG;
    if (!name) return null_arg(f, "wse_dsd_name", "name");
    *name = NULL;
    pe_t *p;
    int st = pe_of(f, x, y, &p);
    if (st) return st;
    if (i >= p->img->n_dsd) {
        wse__set_msg(f, "PE (%u,%u) (image %s) has %u DSDs; there is no DSD %u", x, y, p->img->name, p->img->n_dsd, i);
        return WSE_BAD_ARG;
    }
    *name = p->img->dsd_name[i];
    return WSE_OK;
}

int wse_symbol_at(wse_fabric *f, unsigned int x, unsigned int y, unsigned int i, const char **name,
                  int *type) {
    if (!f) return WSE_BAD_ARG;
    if (!name) return null_arg(f, "wse_symbol_at", "name");
    *name = NULL;
    pe_t *p;
    int st = pe_of(f, x, y, &p);
    if (st) return st;
    if (i >= p->img->n_syms) {
        wse__set_msg(f, "PE (%u,%u) (image %s) has %u symbols; there is no symbol %u", x, y, p->img->name,
                     p->img->n_syms, i);
        return WSE_BAD_ARG;
    }
    *name = p->img->syms[i].name;
    if (type) *type = p->img->syms[i].type;
    return WSE_OK;
}

int wse_symbol_pes(wse_fabric *f, const char *name, int kind, unsigned int *xy,
                   unsigned long long cap, unsigned long long *n) {
    if (!f) return WSE_BAD_ARG;
    if (!name || !n) return null_arg(f, "wse_symbol_pes", !name ? "name" : "count");
    *n = 0;
    if (!xy && cap) return bad_arg(f, "wse_symbol_pes: a null buffer for %llu PEs", cap);
    if (kind < 0 || kind > 2) return bad_arg(f, "wse_symbol_pes: kind %d is not 0 (any), 1 (data) or 2 (task)", kind);
    /* whether each image has it, once per image (a fabric has few images and many PEs) */
    uint8_t *has = calloc(f->n_images ? f->n_images : 1, 1);
    if (!has) { wse__set_msg(f, "wse_symbol_pes: out of host memory"); return WSE_NOMEM; }
    for (uint32_t i = 0; i < f->n_images; i++) {
        const sym_t *s = find_sym(&f->images[i], name);
        has[i] = s && (kind == 0 || (kind == 1) == (s->type != WSE_SYM_TASK));
    }
    unsigned long long k = 0;
    for (size_t i = 0; i < (size_t)f->W * f->H; i++) {
        const pe_t *p = f->pes[i];
        if (!p || !has[p->img - f->images]) continue;
        if (k < cap) { xy[2 * k] = p->x; xy[2 * k + 1] = p->y; }
        k++;
    }
    free(has);
    *n = k;
    return WSE_OK;
}

int wse_mem_read(wse_fabric *f, unsigned int x, unsigned int y, unsigned int addr,
                 unsigned int n, unsigned short *out) {
    if (!f) return WSE_BAD_ARG;
    if (!out && n) return bad_arg(f, "wse_mem_read: a null buffer for %u words", n);
    pe_t *p;
    int st = pe_of(f, x, y, &p);
    if (st) return st;
    if ((uint64_t)addr + n > f->sram_words) return bad_arg(f, "words [%u, %llu) are outside SRAM [0, %u)", addr, (unsigned long long)addr + n, f->sram_words);
    if (n) memcpy(out, p->mem + addr, (size_t)n * 2);
    return WSE_OK;
}

int wse_mem_write(wse_fabric *f, unsigned int x, unsigned int y, unsigned int addr,
                  unsigned int n, const unsigned short *in) {
    if (!f) return WSE_BAD_ARG;
    if (!in && n) return bad_arg(f, "wse_mem_write: a null buffer for %u words", n);
    pe_t *p;
    int st = pe_of(f, x, y, &p);
    if (st) return st;
    if ((uint64_t)addr + n > f->sram_words) return bad_arg(f, "words [%u, %llu) are outside SRAM [0, %u)", addr, (unsigned long long)addr + n, f->sram_words);
    /* the code is decoded at load: a write there would show in memory and not in execution */
    if (n && addr < 2 * (uint64_t)p->img->n_code) {
        wse__set_msg(f, "words [%u, %llu) of PE (%u,%u) overlap its code [0, %u): the code is decoded at "
                     "load, so it cannot be changed by a write; assemble and load a new object",
                     addr, (unsigned long long)addr + n, x, y, 2 * p->img->n_code);
        return WSE_BAD_ARG;
    }
    if (n) memcpy(p->mem + addr, in, (size_t)n * 2);
    return WSE_OK;
}

int wse_symbol_rect(wse_fabric *f, const char *name, unsigned int x0, unsigned int y0,
                    unsigned int w, unsigned int h, unsigned int words, unsigned short *buf,
                    int write) {
    if (!f) return WSE_BAD_ARG;
    if (!name || !buf) return null_arg(f, "wse_symbol_rect", !name ? "name" : "buffer");
    if ((uint64_t)x0 + w > f->W || (uint64_t)y0 + h > f->H || !w || !h) {
        wse__set_msg(f, "rectangle (%u,%u) %ux%u is not inside the %ux%u fabric", x0, y0, w, h, f->W, f->H);
        return WSE_BAD_ARG;
    }
    /* every PE is checked before any is touched (a failed write changes nothing). One
       transfer is one element type and, for a read, one length: the caller sized the buffer
       from the first PE's symbol, so a PE whose symbol differs would be misread */
    const sym_t *s0 = NULL;
    unsigned int x_0 = 0, y_0 = 0;
    for (unsigned int yy = 0; yy < h; yy++)
        for (unsigned int xx = 0; xx < w; xx++) {
            pe_t *p;
            int st = pe_of(f, x0 + xx, y0 + yy, &p);     /* (inside: NOT_FOUND or OK) */
            if (st) return st;
            const sym_t *s = find_sym(p->img, name);
            if (!s || s->type == WSE_SYM_TASK) {
                wse__set_msg(f, "PE (%u,%u) (image %s) has no data symbol '%s'", p->x, p->y, p->img->name, name);
                return WSE_NOT_FOUND;
            }
            if (!s0) { s0 = s; x_0 = p->x; y_0 = p->y; }
            else if (s->type != s0->type || (!write && s->count != s0->count)) {
                static const char *TN[] = { "?", "f16", "f32", "u16", "u32", "task" };
                wse__set_msg(f, "symbol '%s' is %s[%u] on PE (%u,%u) but %s[%u] on PE (%u,%u): a rectangle %s "
                             "needs one %s on every PE; %s the PEs separately", name,
                             s0->type < 6 ? TN[s0->type] : "?", s0->count, x_0, y_0, s->type < 6 ? TN[s->type] : "?",
                             s->count, p->x, p->y, write ? "write" : "read", write ? "element type" : "type and length",
                             write ? "write" : "read");
                return WSE_BAD_ARG;
            }
            uint32_t e = (s->type == WSE_SYM_F32 || s->type == WSE_SYM_U32) ? 2 : 1;
            if ((uint64_t)words > (uint64_t)s->count * e) {
                wse__set_msg(f, "symbol '%s' at PE (%u,%u) has %u elements (%u words); %u words asked", name, p->x, p->y, s->count, s->count * e, words);
                return WSE_BAD_ARG;
            }
        }
    for (unsigned int yy = 0; yy < h; yy++)
        for (unsigned int xx = 0; xx < w; xx++) {
            pe_t *p = f->pes[(size_t)(y0 + yy) * f->W + x0 + xx];     /* checked above */
            const sym_t *s = find_sym(p->img, name);
            unsigned short *b = buf + ((size_t)yy * w + xx) * words;
            if (write) memcpy(p->mem + s->value, b, (size_t)words * 2);
            else memcpy(b, p->mem + s->value, (size_t)words * 2);
        }
    return WSE_OK;
}

int wse_task_id(wse_fabric *f, unsigned int x, unsigned int y, const char *name, int *tid) {
    if (!f) return WSE_BAD_ARG;
    if (!name) return null_arg(f, "wse_task_id", "name");
    pe_t *p;
    int st = pe_of(f, x, y, &p);
    if (st) return st;
    const sym_t *s = find_sym(p->img, name);
    if (!s || s->type != WSE_SYM_TASK) { wse__set_msg(f, "PE (%u,%u) (image %s) has no task '%s'", x, y, p->img->name, name); return WSE_NOT_FOUND; }
    if (tid) *tid = (int)s->value;
    return WSE_OK;
}

/* A host call between runs made PE p's CE runnable: an event at the current cycle. Not sched():
   after a run, sched_t and visit_t may still name the current cycle (the run's last, empty
   cycle was visited, then the cycle was wound back to the last active one), and their dedupes
   would drop this event; the calendar's bitmap makes the add idempotent anyway. */
static void host_wake(wse_fabric_t *f, pe_t *p) {
    p->sched_t = f->t;
    p->visit_t = NEVER;      /* the visit of that cycle is not a visit of this event */
    f->cal_t[f->t & (CAL - 1)] = f->t;
    cal_add(f, (uint32_t)(f->t & (CAL - 1)), p->idx);
}

int wse_launch(wse_fabric *f, int tid, unsigned int x0, unsigned int y0, unsigned int w, unsigned int h) {
    if (!f) return WSE_BAD_ARG;
    if (tid < 0 || (uint32_t)tid >= f->P.task_ids) { wse__set_msg(f, "task id %d is not 0..%u", tid, f->P.task_ids - 1); return WSE_BAD_ARG; }
    if ((uint64_t)x0 + w > f->W || (uint64_t)y0 + h > f->H || !w || !h) {
        wse__set_msg(f, "rectangle (%u,%u) %ux%u is not inside the %ux%u fabric", x0, y0, w, h, f->W, f->H);
        return WSE_BAD_ARG;
    }
    /* a data task runs only for wavelets of its color: its activated bit would just stay set
       and end the run in a hang (timing.md, Clarifications), so it is refused, before any PE
       is changed */
    for (unsigned int yy = y0; yy < y0 + h; yy++)
        for (unsigned int xx = x0; xx < x0 + w; xx++) {
            pe_t *p = f->pes[(size_t)yy * f->W + xx];
            if (p && p->img->tasks[tid].defined && p->img->tasks[tid].kind == WSE_TASK_DATA) {
                wse__set_msg(f, "task %d of PE (%u,%u) (image %s) is a data task: it runs when a wavelet of "
                             "color %u reaches the PE, not when launched; send one (Fabric.send) or "
                             "launch a local task", tid, xx, yy, p->img->name, p->img->tasks[tid].color);
                return WSE_BAD_ARG;
            }
        }
    unsigned int n = 0;
    for (unsigned int yy = y0; yy < y0 + h; yy++)
        for (unsigned int xx = x0; xx < x0 + w; xx++) {
            pe_t *p = f->pes[(size_t)yy * f->W + xx];
            if (!p || !p->img->tasks[tid].defined) continue;
            p->activated |= 1ull << tid;
            host_wake(f, p);
            n++;
        }
    if (!n) { wse__set_msg(f, "no PE in the rectangle (%u,%u) %ux%u defines task %d", x0, y0, w, h, tid); return WSE_NOT_FOUND; }
    return WSE_OK;
}

int wse_launch_name(wse_fabric *f, const char *name, unsigned int x0, unsigned int y0,
                    unsigned int w, unsigned int h) {
    if (!f) return WSE_BAD_ARG;
    if (!name) return null_arg(f, "wse_launch_name", "name");
    if ((uint64_t)x0 + w > f->W || (uint64_t)y0 + h > f->H || !w || !h) {
        wse__set_msg(f, "rectangle (%u,%u) %ux%u is not inside the %ux%u fabric", x0, y0, w, h, f->W, f->H);
        return WSE_BAD_ARG;
    }
    /* every PE first (a refused launch changes nothing); images repeat, so the lookup of the
       last image is kept */
    const image_t *last = NULL;
    int tid = -1;
    unsigned int n = 0;
    for (int pass = 0; pass < 2; pass++)
        for (unsigned int yy = y0; yy < y0 + h; yy++)
            for (unsigned int xx = x0; xx < x0 + w; xx++) {
                pe_t *p = f->pes[(size_t)yy * f->W + xx];
                if (!p) continue;
                if (p->img != last) {
                    last = p->img;
                    const sym_t *s = find_sym(p->img, name);
                    tid = s && s->type == WSE_SYM_TASK && s->value < NTASKS ? (int)s->value : -1;
                }
                if (tid < 0 || !p->img->tasks[tid].defined) continue;
                if (!pass) {
                    if (p->img->tasks[tid].kind == WSE_TASK_DATA) {
                        wse__set_msg(f, "task '%s' of PE (%u,%u) is a data task: it runs when a wavelet of "
                                     "color %u reaches the PE, not when launched; send one (Fabric.send) or "
                                     "launch a local task", name, xx, yy, p->img->tasks[tid].color);
                        return WSE_BAD_ARG;
                    }
                    n++;
                    continue;
                }
                p->activated |= 1ull << tid;
                host_wake(f, p);
            }
    if (!n) { wse__set_msg(f, "no PE in the rectangle (%u,%u) %ux%u defines task '%s'", x0, y0, w, h, name); return WSE_NOT_FOUND; }
    return WSE_OK;
}

static int port_index(unsigned int port) {
    switch (port) { case PN: return 0; case PE_: return 1; case PS: return 2; case PW: return 3; default: return -1; }
}

int wse_send(wse_fabric *f, unsigned int x, unsigned int y, unsigned int port,
             unsigned int color, const unsigned int *payloads, unsigned int n, int ctrl) {
    if (!f) return WSE_BAD_ARG;
    if (!payloads && n) return bad_arg(f, "wse_send: a null buffer for %u payloads", n);
    pe_t *p;
    int st = pe_of(f, x, y, &p);
    if (st) return st;
    int pi = port_index(port);
    if (pi < 0) { wse__set_msg(f, "port %u is not NORTH(1), EAST(2), SOUTH(4) or WEST(8)", port); return WSE_BAD_ARG; }
    int edge = (port == PN && y == 0) || (port == PS && y == f->H - 1) || (port == PW && x == 0) || (port == PE_ && x == f->W - 1);
    if (!edge) { wse__set_msg(f, "port %s of PE (%u,%u) does not face the edge of the fabric", port_name((int)port), x, y); return WSE_BAD_ARG; }
    if (color > 23) { wse__set_msg(f, "color %u is not 0..23", color); return WSE_BAD_ARG; }
    /* (the queue's counters are 32-bit) */
    if ((uint64_t)p->hq_n[pi] + n > UINT32_MAX)
        return bad_arg(f, "%u host wavelets already wait at port %s of PE (%u,%u); %u more would pass the "
                       "limit of %u: run the fabric first", p->hq_n[pi], port_name((int)port), x, y, n, UINT32_MAX);
    size_t need = (size_t)p->hq_n[pi] + n;
    /* compact */
    if (p->hq_head[pi] && p->hq_n[pi]) memmove(p->hq[pi], p->hq[pi] + p->hq_head[pi], p->hq_n[pi] * sizeof(uint64_t));
    p->hq_head[pi] = 0;
    size_t cap = p->hq_cap[pi];
    if (grow((void **)&p->hq[pi], &cap, need, sizeof(uint64_t))) {
        wse__set_msg(f, "out of host memory queueing %u host wavelets at port %s of PE (%u,%u) (nothing was queued)",
                     n, port_name((int)port), x, y);
        return WSE_NOMEM;
    }
    p->hq_cap[pi] = (uint32_t)cap;
    for (unsigned int i = 0; i < n; i++)
        p->hq[pi][p->hq_n[pi] + i] = ((uint64_t)(ctrl ? 1 : 0) << 40) | ((uint64_t)color << 32) | payloads[i];
    p->hq_n[pi] += n;
    if (p->hq_n[pi]) p->hq_ports |= (uint8_t)(1u << pi);
    if (n) f->rwake[p->idx] = 0;
    f->host_pending += n;
    if (n) ract_add(f, p);
    if (f->oom) { wse__set_msg(f, "out of host memory while queueing host wavelets (growing %s); load the program again", f->oom); return WSE_NOMEM; }
    return WSE_OK;
}

unsigned long long wse_received_count(const wse_fabric *f) { return f ? f->out_n : 0; }

int wse_received_read(const wse_fabric *f, unsigned long long start, unsigned long long n, wse_host_wavelet *out) {
    if (!f) return WSE_BAD_ARG;
    if (!out && n) return bad_arg(f, "wse_received_read: a null buffer for %llu wavelets", n);
    if (start > f->out_n || n > f->out_n - start)        /* (start + n may wrap) */
        return bad_arg(f, "wse_received_read: wavelets [%llu, +%llu) are not within the %llu received", start, n,
                       (unsigned long long)f->out_n);
    if (n) memcpy(out, f->out + start, (size_t)n * sizeof *out);
    return WSE_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* trace                                                                                      */

static void trace(wse_fabric_t *f, int kind, pe_t *p, uint32_t a, uint32_t b, uint64_t t0, uint64_t t1) {
    /* outside the window: a PE outside the rectangle, or a span that ends before c0 (an instant
       at t counts as [t, t + 1)) or starts at or after c1 */
    if ((uint32_t)(p->x - f->tr_x0) >= f->tr_w || (uint32_t)(p->y - f->tr_y0) >= f->tr_h
        || t0 >= f->tr_c1 || (t1 > t0 ? t1 : t0 + 1) <= f->tr_c0)
        return;
    if (grow((void **)&f->tr, &f->tr_cap, f->tr_n + 1, sizeof(wse_trace_event))) { nomem(f, "the trace buffer"); return; }
    wse_trace_event *e = &f->tr[f->tr_n++];
    e->kind = kind; e->x = p->x; e->y = p->y; e->a = a; e->b = b; e->t0 = t0; e->t1 = t1;
}

int wse_trace_enable(wse_fabric *f, int on) { if (!f) return WSE_BAD_ARG; f->tracing = on != 0; return WSE_OK; }
int wse_trace_window(wse_fabric *f, unsigned int x0, unsigned int y0, unsigned int w, unsigned int h,
                     unsigned long long c0, unsigned long long c1) {
    if (!f) return WSE_BAD_ARG;
    if (w < 1 || h < 1 || x0 >= f->W || y0 >= f->H || w > f->W - x0 || h > f->H - y0)
    {
        wse__set_msg(f, "trace window: the rectangle (%u, %u, %u, %u) is not inside the %ux%u fabric",
                     x0, y0, w, h, f->W, f->H);
        return WSE_BAD_ARG;
    }
    if (c0 >= c1)
    {
        wse__set_msg(f, "trace window: the cycles [%llu, %llu) are empty (the start must be below the end)", c0, c1);
        return WSE_BAD_ARG;
    }
    f->tr_x0 = x0; f->tr_y0 = y0; f->tr_w = w; f->tr_h = h; f->tr_c0 = c0; f->tr_c1 = c1;
    return WSE_OK;
}
unsigned long long wse_trace_count(const wse_fabric *f) { return f ? f->tr_n : 0; }
int wse_trace_read(const wse_fabric *f, unsigned long long start, unsigned long long n, wse_trace_event *out) {
    if (!f) return WSE_BAD_ARG;
    if (!out && n) return bad_arg(f, "wse_trace_read: a null buffer for %llu events", n);
    if (start > f->tr_n || n > f->tr_n - start)          /* (start + n may wrap) */
        return bad_arg(f, "wse_trace_read: events [%llu, +%llu) are not within the %llu recorded", start, n,
                       (unsigned long long)f->tr_n);
    if (n) memcpy(out, f->tr + start, (size_t)n * sizeof *out);
    return WSE_OK;
}

/* The spans open at the fabric's cycle (wse.h): each PE of the trace window's rectangle, row-major:
   its running task, its main thread's fabric op, its microthreads' ops. Spans [start, start + n)
   of them go to out; returns how many there are. Nothing is recorded. */
static unsigned long long trace_open_scan(const wse_fabric_t *f, unsigned long long start, unsigned long long n,
                                          wse_trace_event *out) {
    if (!f->loaded) return 0;
    /* the run stopped before cycle f->t (a pause, yield, hang, the watchdog) or in it (a fault:
       the cycle was under way); the main thread that faulted ran ahead to the fault's cycle */
    const wse_fault_info *fi = &f->fault;
    uint64_t now = f->faulted ? f->t + 1 : f->t;
    unsigned long long k = 0;
#define OPEN(KIND, A, B, T0, T1) do { \
        uint64_t t0_ = (T0), t1_ = (T1); \
        if (t0_ < t1_ && t0_ < f->tr_c1 && t1_ > f->tr_c0) { \
            if (k >= start && k - start < n) { \
                wse_trace_event *e_ = &out[k - start]; \
                e_->kind = WSE_TRACE_OPEN | (KIND); e_->x = p->x; e_->y = p->y; e_->a = (A); e_->b = (B); \
                e_->t0 = t0_; e_->t1 = t1_; \
            } \
            k++; \
        } \
    } while (0)
    for (uint32_t y = f->tr_y0; y < f->tr_y0 + f->tr_h; y++)
        for (uint32_t x = f->tr_x0; x < f->tr_x0 + f->tr_w; x++) {
            const pe_t *p = f->pes[(size_t)y * f->W + x];
            if (!p) continue;
            uint64_t tm = now;
            if (f->faulted && fi->microthread < 0 && fi->task >= 0 && (uint32_t)fi->x == x && (uint32_t)fi->y == y
                && fi->cycle + 1 > tm)
                tm = fi->cycle + 1;
            if (p->task >= 0) OPEN(1, (uint32_t)p->task, 0, p->task_start, tm);
            if (p->mop.busy) OPEN(2, p->mop.opcode, 8, p->mop.start_t, tm);
            for (int u = 0; u < NUT; u++)
                if (p->ut_mask >> u & 1) OPEN(2, p->ut[u].opcode, (uint32_t)u, p->ut[u].start_t, now);
        }
#undef OPEN
    return k;
}

int wse_trace_open(const wse_fabric *f, unsigned long long start, unsigned long long n, wse_trace_event *out,
                   unsigned long long *count) {
    if (!f) return WSE_BAD_ARG;
    if (!count) return null_arg(f, "wse_trace_open", "count");
    *count = 0;
    if (!out && n) return bad_arg(f, "wse_trace_open: a null buffer for %llu spans", n);
    unsigned long long total = trace_open_scan(f, 0, 0, NULL);
    *count = total;
    if (start > total || n > total - start)              /* (start + n may wrap) */
        return bad_arg(f, "wse_trace_open: spans [%llu, +%llu) are not within the %llu open", start, n, total);
    if (n) trace_open_scan(f, start, n, out);
    return WSE_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* DSD operands                                                                               */

static inline uint32_t esize(int t) { return (t == WSE_T_S || t == WSE_T_U32) ? 2 : 1; }

/* element count; UINT64_MAX when it does not fit 32 bits */
static uint64_t dsd_count(const dsr_t *d) {
    if (d->kind != WSE_DSD_MEM4D) return d->len[0];
    uint64_t n = 1;
    for (int k = 0; k < d->ndim; k++) { n *= d->len[k]; if (n > 0xffffffffull) return UINT64_MAX; }
    return n;
}

static inline int64_t dsd_addr(const dsr_t *d, uint64_t i, uint32_t e) {
    if (d->kind == WSE_DSD_MEM1D) return (int64_t)d->base + (int64_t)i * d->stride[0] * (int64_t)e;
    int64_t a = d->base;
    for (int k = 0; k < d->ndim; k++) {
        uint64_t l = d->len[k] ? d->len[k] : 1;
        a += (int64_t)(i % l) * d->stride[k] * (int64_t)e;
        i /= l;
    }
    return a;
}

static int dsd_unit(const dsr_t *d) {
    if (d->kind == WSE_DSD_MEM1D) return d->stride[0] == 1;
    int64_t run = 1;
    for (int k = 0; k < d->ndim; k++) {
        if (d->len[k] > 1 && d->stride[k] != run) return 0;
        run *= d->len[k];
    }
    return 1;
}

static inline int is_mem(const dsr_t *d) { return d->kind == WSE_DSD_MEM1D || d->kind == WSE_DSD_MEM4D; }
static inline int is_fab(const dsr_t *d) { return d->kind == WSE_DSD_FABIN || d->kind == WSE_DSD_FABOUT; }

/* Check one element (range, then alignment, then code for a destination). The operand is named
   dsr + idx ("d0", "a3"...) in the report, with the DSD it was loaded from (src). */
static int check_elem(wse_fabric_t *f, pe_t *p, int64_t a, uint32_t e, int is_dst, char dsr, unsigned idx,
                      const dsr_src_t *src, int pc, uint64_t t) {
    int range = a < 0 || a + (int64_t)e > (int64_t)f->sram_words;
    int align = !range && e == 2 && (a & 1);
    int code = !range && !align && is_dst && a < 2 * (int64_t)p->img->n_code;
    if (!range && !align && !code) return 0;
    text_t which = { 0 };
    text_app(&which, "%c%u operand", dsr, idx);
    dsr_paren_app(f, &which, p, src);
    const char *w = text_str(&which);
    if (range)
        fault(f, p, WSE_FK_MEM_RANGE, pc, t, "%s: element address %lld is outside SRAM (%u 16-bit words: a %u-byte element starts at word 0..%u)", w, (long long)a, f->sram_words, 2 * e, f->sram_words - e);
    else if (align)
        fault(f, p, WSE_FK_MISALIGNED, pc, t, "%s: 32-bit element at odd word address %lld", w, (long long)a);
    else
        fault(f, p, WSE_FK_WRITE_CODE, pc, t, "%s: element at word %lld is in the code region [0, %u)", w, (long long)a, 2 * p->img->n_code);
    text_free(&which);
    f->fault.address = a;
    return -1;
}

/* elements in [lo, hi + e) starting at base: inside SRAM, aligned, and (for a destination)
   outside the code, so no element can fault */
static inline int span_ok(const wse_fabric_t *f, const pe_t *p, int64_t lo, int64_t hi, uint32_t base,
                          uint32_t e, int is_dst) {
    return lo >= 0 && hi + (int64_t)e <= (int64_t)f->sram_words && !(e == 2 && (base & 1))
           && !(is_dst && lo < 2 * (int64_t)p->img->n_code);
}

/* A mem1d operand of n >= 1 elements of e words: every element inside SRAM, aligned and (for
   a destination) outside the code, so that none can fault (check_mem's first test for mem1d). */
static inline int mem1d_ok(const wse_fabric_t *f, const pe_t *p, const dsr_t *d, uint64_t n, uint32_t e, int is_dst) {
    int64_t last = (int64_t)d->base + (int64_t)(n - 1) * d->stride[0] * (int64_t)e;
    return last >= (int64_t)d->base ? span_ok(f, p, d->base, last, d->base, e, is_dst)
                                    : span_ok(f, p, last, d->base, d->base, e, is_dst);
}

/* Check every element of a memory operand in element order; returns 0 or faults. */
static int check_mem(wse_fabric_t *f, pe_t *p, const dsr_t *d, uint64_t n, uint32_t e, int is_dst,
                     char dsr, unsigned idx, int pc, uint64_t t) {
    const dsr_src_t *src = &p->dsr_src[(dsr == 'd' ? 0 : dsr == 'a' ? 8 : 16) + idx];
    if (!n) return 0;
    int64_t lo = d->base, hi = d->base;
    if (d->kind == WSE_DSD_MEM1D) {
        int64_t last = (int64_t)d->base + (int64_t)(n - 1) * d->stride[0] * (int64_t)e;
        if (last < lo) lo = last; else hi = last;
    } else {
        for (int k = 0; k < d->ndim; k++) {
            int64_t span = (int64_t)(d->len[k] ? d->len[k] - 1 : 0) * d->stride[k] * (int64_t)e;
            if (span < 0) lo += span; else hi += span;
        }
    }
    if (span_ok(f, p, lo, hi, d->base, e, is_dst)) return 0;
    for (uint64_t i = 0; i < n; i++)
        if (check_elem(f, p, dsd_addr(d, i, e), e, is_dst, dsr, idx, src, pc, t)) return -1;
    return 0;
}

static inline uint32_t mem_ld(const uint16_t *mem, int64_t a, uint32_t e) {
    return e == 2 ? (uint32_t)mem[a] | ((uint32_t)mem[a + 1] << 16) : mem[a];
}
static inline void mem_st(uint16_t *mem, int64_t a, uint32_t e, uint32_t v) {
    mem[a] = (uint16_t)v;
    if (e == 2) mem[a + 1] = (uint16_t)(v >> 16);
}

/* One element of a tensor op: bits in, bits out. */
static inline uint32_t elem(uint8_t op, uint32_t x0, uint32_t x1, uint32_t rs) {
    switch (op) {
    case WSE_OP_FMOVH_V: return to_h(hf(x0));
    case WSE_OP_FMOVH_S: return to_h(bf(rs));
    case WSE_OP_FADDH_VV: return to_h(hf(x0) + hf(x1));
    case WSE_OP_FADDH_VS: return to_h(hf(x0) + bf(rs));
    case WSE_OP_FSUBH_VV: return to_h(hf(x0) - hf(x1));
    case WSE_OP_FSUBH_VS: return to_h(hf(x0) - bf(rs));
    case WSE_OP_FMULH_VV: return to_h(hf(x0) * hf(x1));
    case WSE_OP_FMULH_VS: return to_h(hf(x0) * bf(rs));
    case WSE_OP_FMACH: { float pr = hf(x1) * bf(rs); return to_h(hf(x0) + pr); }
    case WSE_OP_FMAXH_VV: return to_h(fmax_ieee(hf(x0), hf(x1)));
    case WSE_OP_FMAXH_VS: return to_h(fmax_ieee(hf(x0), bf(rs)));
    case WSE_OP_FNEGH: return to_h(-hf(x0));
    case WSE_OP_FABSH: return to_h(fabsf(hf(x0)));
    case WSE_OP_FMOVS_V: return canon_s(bf(x0));
    case WSE_OP_FMOVS_S: return canon_s(bf(rs));
    case WSE_OP_FADDS_VV: return canon_s(bf(x0) + bf(x1));
    case WSE_OP_FADDS_VS: return canon_s(bf(x0) + bf(rs));
    case WSE_OP_FSUBS_VV: return canon_s(bf(x0) - bf(x1));
    case WSE_OP_FSUBS_VS: return canon_s(bf(x0) - bf(rs));
    case WSE_OP_FMULS_VV: return canon_s(bf(x0) * bf(x1));
    case WSE_OP_FMULS_VS: return canon_s(bf(x0) * bf(rs));
    case WSE_OP_FMACS: { float pr = bf(x1) * bf(rs); return canon_s(bf(x0) + pr); }
    case WSE_OP_FMAXS_VV: return canon_s(fmax_ieee(bf(x0), bf(x1)));
    case WSE_OP_FMAXS_VS: return canon_s(fmax_ieee(bf(x0), bf(rs)));
    case WSE_OP_FNEGS: return canon_s(-bf(x0));
    case WSE_OP_FABSS: return canon_s(fabsf(bf(x0)));
    case WSE_OP_FADDHS: return canon_s(bf(x0) + hf(x1));
    case WSE_OP_FMACHS: { float pr = hf(x1) * bf(rs); return canon_s(bf(x0) + pr); }
    case WSE_OP_FH2S: return canon_s(hf(x0));
    case WSE_OP_FS2H: return to_h(bf(x0));
    case WSE_OP_ADD16_VV: return (x0 + x1) & 0xffffu;
    case WSE_OP_ADD16_VS: return (x0 + rs) & 0xffffu;
    case WSE_OP_SUB16_VV: return (x0 - x1) & 0xffffu;
    case WSE_OP_SUB16_VS: return (x0 - rs) & 0xffffu;
    case WSE_OP_AND16_VV: return x0 & x1;
    case WSE_OP_AND16_VS: return x0 & rs & 0xffffu;
    case WSE_OP_OR16_VV: return (x0 | x1) & 0xffffu;
    case WSE_OP_OR16_VS: return (x0 | rs) & 0xffffu;
    case WSE_OP_XOR16_VV: return (x0 ^ x1) & 0xffffu;
    case WSE_OP_XOR16_VS: return (x0 ^ rs) & 0xffffu;
    case WSE_OP_SLL16_VV: return x1 >= 16 ? 0 : (x0 << x1) & 0xffffu;
    case WSE_OP_SLL16_VS: return rs >= 16 ? 0 : (x0 << rs) & 0xffffu;
    case WSE_OP_SLR16_VV: return x1 >= 16 ? 0 : (x0 & 0xffffu) >> x1;
    case WSE_OP_SLR16_VS: return rs >= 16 ? 0 : (x0 & 0xffffu) >> rs;
    case WSE_OP_SAR16_VV: return (uint32_t)((int32_t)(int16_t)x0 >> (x1 >= 16 ? 15 : x1)) & 0xffffu;
    case WSE_OP_SAR16_VS: return (uint32_t)((int32_t)(int16_t)x0 >> (rs >= 16 ? 15 : rs)) & 0xffffu;
    case WSE_OP_MOV16_V: return x0 & 0xffffu;
    case WSE_OP_MOV16_S: return rs & 0xffffu;
    case WSE_OP_MOV32_V: return x0;
    case WSE_OP_MOV32_S: return rs;
    default: return 0;
    }
}

static inline int disjoint_or_same(uint32_t x, uint32_t y, uint64_t words) {
    return x == y || (uint64_t)x + words <= y || (uint64_t)y + words <= x;
}

/* fmacs over contiguous fp32 whose destination does not overlap a source at an offset: one
   vectorisable loop, then NaNs made canonical. Element order cannot be observed. */
__attribute__((optimize("O3")))
static int fmacs_fast(uint16_t *mem, uint32_t d, uint32_t a, uint32_t b, uint64_t n, float s) {
    if (!disjoint_or_same(d, a, 2 * n) || !disjoint_or_same(d, b, 2 * n)) return 0;
    float *D = (float *)(void *)(mem + d);
    const float *A = (const float *)(const void *)(mem + a), *B = (const float *)(const void *)(mem + b);
#pragma GCC ivdep
    for (uint64_t i = 0; i < n; i++) {
        float pr = B[i] * s;
        D[i] = A[i] + pr;
    }
    uint32_t *DU = (uint32_t *)(void *)D;
    uint32_t any = 0;
    for (uint64_t i = 0; i < n; i++) any |= (uint32_t)((DU[i] & 0x7fffffffu) > 0x7f800000u);
    if (any)
        for (uint64_t i = 0; i < n; i++) if ((DU[i] & 0x7fffffffu) > 0x7f800000u) DU[i] = 0x7fc00000u;
    return 1;
}

/* fp16 bits -> fp32 without branches (so that loops over it vectorise); the same bits as
   f16_to_f32_bits for every input: normal numbers re-bias the exponent, Inf/NaN keep their
   mantissa, subnormals are renormalised by an exact float subtraction. */
static inline float hf_nb(uint32_t h) {
    uint32_t o = (h & 0x7fffu) << 13;            /* exponent and mantissa in fp32 position */
    uint32_t exp = o & 0x0f800000u;
    o += 0x38000000u;                             /* exponent bias 15 -> 127 */
    uint32_t inf_nan = o + 0x38000000u;           /* exponent 31 -> 255 */
    uint32_t sub = fb(bf(o + 0x00800000u) - bf(0x38800000u));   /* m * 2^-24, exactly */
    uint32_t r = exp == 0x0f800000u ? inf_nan : (exp == 0 ? sub : o);
    return bf(r | ((h & 0x8000u) << 16));
}

#ifdef WSE_HAVE_F16C_PATH
/* The fmachs loop with AVX + F16C (vcvtph2ps widens 8 fp16 exactly, subnormals included; a
   NaN comes out quiet, but every NaN result is made canonical anyway). The product is rounded
   before the add (separate mul and add, no FMA in this target): the same bits as the portable
   loop. NaN results are only noted in the loop and replaced by 0x7fc00000 in a second pass
   when there is one (a per-vector blend compiled to per-lane branches under this target and
   made the loop ~5x slower, measured in isolation on 192 x 96 blocks). Called only when the
   CPU has both (checked at run time; the rest of the core needs neither). */
__attribute__((target("avx,f16c")))
static void fmachs_f16c(float *D, const float *A, const uint16_t *B, uint64_t n, float s) {
    const __m256 vs = _mm256_set1_ps(s);
    __m256 nan = _mm256_setzero_ps();
    uint64_t i = 0;
    int any = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 pr = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(B + i))), vs);
        __m256 r = _mm256_add_ps(_mm256_loadu_ps(A + i), pr);
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(r, r, _CMP_UNORD_Q));
        _mm256_storeu_ps(D + i, r);
    }
    for (; i < n; i++) {
        float pr = hf_nb(B[i]) * s;
        D[i] = A[i] + pr;
        any |= D[i] != D[i];
    }
    if (any || _mm256_movemask_ps(nan)) {
        uint32_t *DU = (uint32_t *)(void *)D;
        for (i = 0; i < n; i++) if ((DU[i] & 0x7fffffffu) > 0x7f800000u) DU[i] = 0x7fc00000u;
    }
}
#endif

/* fmachs (fp32 d = fp32 a + fp16 b * s) over contiguous operands where d does not overlap a at
   an offset nor b at all: one vectorisable loop, then NaNs made canonical. (d == a is fine:
   element i reads a[i] before writing d[i].) */
static inline int fmachs_ok(uint32_t d, uint32_t a, uint32_t b, uint64_t n) {
    return disjoint_or_same(d, a, 2 * n) && ((uint64_t)d + 2 * n <= b || (uint64_t)b + n <= d);
}

__attribute__((optimize("O3")))
static void fmachs_run(float *D, const float *A, const uint16_t *B, uint64_t n, float s) {
#ifdef WSE_HAVE_F16C_PATH
    if (__builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c")) {
        fmachs_f16c(D, A, B, n, s);
        return;
    }
#endif
#pragma GCC ivdep
    for (uint64_t i = 0; i < n; i++) {
        float pr = hf_nb(B[i]) * s;
        D[i] = A[i] + pr;
    }
    uint32_t *DU = (uint32_t *)(void *)D;
    uint32_t any = 0;
    for (uint64_t i = 0; i < n; i++) any |= (uint32_t)((DU[i] & 0x7fffffffu) > 0x7f800000u);
    if (any)
        for (uint64_t i = 0; i < n; i++) if ((DU[i] & 0x7fffffffu) > 0x7f800000u) DU[i] = 0x7fc00000u;
}

static int fmachs_fast(uint16_t *mem, uint32_t d, uint32_t a, uint32_t b, uint64_t n, float s) {
    if (!fmachs_ok(d, a, b, n)) return 0;
    fmachs_run((float *)(void *)(mem + d), (const float *)(const void *)(mem + a), mem + b, n, s);
    return 1;
}

/* A memory-only op whose operands are all mem1d (any strides, unit ones included), with one loop
   per tensor op: its opcode, element sizes and expression (elem with a constant opcode) are
   fixed in the loop instead of a switch per element. The loads, stores and element order are
   the generic loop's, so any overlap of the operands reads what earlier elements wrote, as
   there. Returns 0 (nothing done) when an operand is not mem1d. */
static __attribute__((flatten)) int tensor_mem1d(uint16_t *mem, uint8_t op, const dsr_t *d, const dsr_t *a, const dsr_t *b,
                        uint32_t rs, uint64_t n) {
    if (d->kind != WSE_DSD_MEM1D || (a && a->kind != WSE_DSD_MEM1D) || (b && b->kind != WSE_DSD_MEM1D)) return 0;
    switch (op) {
#define TM_CASE(NAME, opc, mask, match, cls, sync, form, td, t0, t1, mn) \
    case opc: \
        if ((opc) >= 0x80 && (td) != 0) { \
            const uint32_t ed_ = esize(td), e0_ = esize(t0), e1_ = esize(t1); \
            int64_t pd = d->base, pa = (t0) ? a->base : 0, pb = (t1) ? b->base : 0; \
            const int64_t sd = (int64_t)d->stride[0] * ed_, sa = (t0) ? (int64_t)a->stride[0] * e0_ : 0, \
                          sb = (t1) ? (int64_t)b->stride[0] * e1_ : 0; \
            for (uint64_t i = 0; i < n; i++, pd += sd, pa += sa, pb += sb) { \
                uint32_t x0 = (t0) ? mem_ld(mem, pa, e0_) : 0, x1 = (t1) ? mem_ld(mem, pb, e1_) : 0; \
                mem_st(mem, pd, ed_, elem((uint8_t)(opc), x0, x1, rs)); \
            } \
            return 1; \
        } \
        return 0;
    WSE_INSN_LIST(TM_CASE)
#undef TM_CASE
    default: return 0;
    }
}

/* The memory-only op: all elements now. Operands already checked. */
static void tensor_mem_all(pe_t *p, uint8_t op, const insn_desc_t *in, const dsr_t *d, const dsr_t *a,
                           const dsr_t *b, uint32_t rs, uint64_t n, int unit_all) {
    uint16_t *mem = p->mem;
    uint32_t ed = esize(in->td), e0 = esize(in->t0), e1 = esize(in->t1);
    int has0 = in->t0 != 0, has1 = in->t1 != 0;
    if (unit_all) {
        /* contiguous fast paths for the hot ops */
        if (op == WSE_OP_FMACS && fmacs_fast(mem, d->base, a->base, b->base, n, bf(rs))) return;
        if (op == WSE_OP_FMACS) {
            float s = bf(rs);
            for (uint64_t i = 0; i < n; i++) {
                uint32_t x0 = mem_ld(mem, (int64_t)a->base + 2 * (int64_t)i, 2);
                uint32_t x1 = mem_ld(mem, (int64_t)b->base + 2 * (int64_t)i, 2);
                float pr = bf(x1) * s;
                mem_st(mem, (int64_t)d->base + 2 * (int64_t)i, 2, canon_s(bf(x0) + pr));
            }
            return;
        }
        if (op == WSE_OP_FMACHS && fmachs_fast(mem, d->base, a->base, b->base, n, bf(rs))) return;
        if (op == WSE_OP_FMACHS) {
            float s = bf(rs);
            for (uint64_t i = 0; i < n; i++) {
                uint32_t x0 = mem_ld(mem, (int64_t)a->base + 2 * (int64_t)i, 2);
                float pr = hf(mem[b->base + i]) * s;
                mem_st(mem, (int64_t)d->base + 2 * (int64_t)i, 2, canon_s(bf(x0) + pr));
            }
            return;
        }
        if (tensor_mem1d(mem, op, d, has0 ? a : NULL, has1 ? b : NULL, rs, n)) return;
        for (uint64_t i = 0; i < n; i++) {
            uint32_t x0 = has0 ? mem_ld(mem, (int64_t)a->base + (int64_t)(i * e0), e0) : 0;
            uint32_t x1 = has1 ? mem_ld(mem, (int64_t)b->base + (int64_t)(i * e1), e1) : 0;
            mem_st(mem, (int64_t)d->base + (int64_t)(i * ed), ed, elem(op, x0, x1, rs));
        }
        return;
    }
    if (tensor_mem1d(mem, op, d, has0 ? a : NULL, has1 ? b : NULL, rs, n)) return;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t x0 = has0 ? mem_ld(mem, dsd_addr(a, i, e0), e0) : 0;
        uint32_t x1 = has1 ? mem_ld(mem, dsd_addr(b, i, e1), e1) : 0;
        mem_st(mem, dsd_addr(d, i, ed), ed, elem(op, x0, x1, rs));
    }
}

/* ------------------------------------------------------------------------------------------ */
/* routers (phase 1)                                                                          */

static inline col_t *col_of(pe_t *p, uint32_t c) {
    int s = p->cslot[c];
    return s < 0 ? NULL : &p->cols[s];
}

static inline void qmask_update(pe_t *p, col_t *c) {
    if (c->rb.n || c->oq.n) p->qmask |= 1u << c->color; else p->qmask &= ~(1u << c->color);
}

/* does the CE of p care about a wavelet arriving in iq[c]? */
static inline int ce_wants_iq(pe_t *p, uint32_t c) {
    int dt = p->img->data_task_of_color[c];
    if (dt >= 0 && p->mstate == M_IDLE && !((p->blocked >> dt) & 1)) return 1;
    if (p->mstate == M_FABOP && (p->mop.colors >> c) & 1) return 1;
    if (p->ut_mask)
        for (int u = 0; u < NUT; u++) if ((p->ut_mask >> u & 1) && (p->ut[u].colors >> c) & 1) return 1;
    return 0;
}

static void activate_ctrl(wse_fabric_t *f, pe_t *p, uint32_t c, uint32_t payload, int own, uint64_t t) {
    uint32_t tid = payload & 63;
    if (!p->img->tasks[tid].defined) {
        text_t defs = { 0 };     /* (every task, whole names: it grows) */
        for (int i = 0; i < NTASKS; i++) {
            if (!p->img->tasks[i].defined) continue;
            const char *tn = task_name(p->img, i);
            text_app(&defs, "%s%d%s%s%s", defs.n ? ", " : "", i, *tn ? " (" : "", tn, *tn ? ")" : "");
        }
        fault(f, p, WSE_FK_TASK, -1, t, "a control wavelet on color %u (payload 0x%x, %s) activates task %u, which PE (%u,%u) "
              "does not define (its tasks: %s)", c, payload, own ? "sent by this PE's CE" : "from the fabric", tid, p->x, p->y,
              defs.n ? text_str(&defs) : "none");
        text_free(&defs);
        f->fault.color = (int)c;
        return;
    }
    p->activated |= 1ull << tid;
    sched(f, p, t);
}

static void router_step(wse_fabric_t *f, pe_t *p, uint64_t t) {
    uint32_t used = 0;
    const uint32_t hop = f->P.hop_latency;
    /* 1. host injection */
    for (int pi = 0; p->hq_ports && pi < 4; pi++) {
        if (!p->hq_n[pi]) continue;
        uint64_t v = p->hq[pi][p->hq_head[pi]];
        uint32_t c = (uint32_t)(v >> 32) & 0xff, port = 1u << pi;
        col_t *cs = col_of(p, c);
        if (cs && cs->rb.n >= cs->rb.cap) continue;     /* the port waits */
        if (!cs || !(cs->rx[cs->pos] & port)) {
            fault(f, p, WSE_FK_ROUTE, -1, t, "a host wavelet on color %u enters through %s but %s", c, port_name((int)port),
                  cs ? "the current route's rx does not include it" : "the PE has no route for the color");
            f->fault.color = (int)c; f->fault.port = (int)port;
            f->park_rem = COLOR_MASK;    /* no color was visited */
            return;
        }
        q_push(&cs->rb, (uint32_t)v, (uint32_t)(v >> 40) & 1, t + hop);
        p->hq_head[pi]++; p->hq_n[pi]--;
        if (!p->hq_n[pi]) { p->hq_head[pi] = 0; p->hq_ports &= (uint8_t)~(1u << pi); }
        f->host_pending--; f->buffered++; f->st_host_in++;
        qmask_update(p, cs);
        f->happened = 1;
    }
    /* 2-4. one wavelet per color, colors in rotating order */
    uint32_t mask = p->qmask & ~p->parked;
    uint64_t *rwake = &f->rwake[p->idx];
    *rwake = p->hq_ports ? t + 1 : NEVER;   /* host wavelets that still wait: try next cycle */
    if (!mask) return;
    uint32_t rot = (uint32_t)(t % NCOLORS);
    uint32_t m = ((mask >> rot) | (mask << (NCOLORS - rot))) & COLOR_MASK;
    /* on a fault: the colors after rotated position b, which this visit has not reached */
#define SET_PARK_REM() do { uint32_t r_ = (COLOR_MASK << (b + 1)) & COLOR_MASK; \
        f->park_rem = ((r_ << rot) | (r_ >> (NCOLORS - rot))) & COLOR_MASK; } while (0)
    while (m) {
        uint32_t b = (uint32_t)__builtin_ctz(m);
        m &= m - 1;
        uint32_t c = b + rot; if (c >= NCOLORS) c -= NCOLORS;
        col_t *cs = &p->cols[p->cslot[c]];
        int rbr = cs->rb.n && q_head(&cs->rb)->ready <= t;
        int oqr = cs->oq.n && q_head(&cs->oq)->ready <= t;
        if (!rbr && !oqr) {
            if (cs->rb.n && q_head(&cs->rb)->ready < *rwake) *rwake = q_head(&cs->rb)->ready;
            if (cs->oq.n && q_head(&cs->oq)->ready < *rwake) *rwake = q_head(&cs->oq)->ready;
            if (*rwake < f->next_router_t) f->next_router_t = *rwake;
            continue;
        }
        q_t *src = (rbr && oqr) ? (cs->toggle ? &cs->oq : &cs->rb) : (rbr ? &cs->rb : &cs->oq);
        wl_t w = *q_head(src);
        uint32_t tx = cs->tx[cs->pos];
        if (!tx) {
            fault(f, p, WSE_FK_ROUTE, -1, t, "color %u: the current route position %u has no tx port", c, cs->pos);
            f->fault.color = (int)c;
            SET_PARK_REM();
            return;
        }
        /* fault checks, ports in order N, E, S, W */
        pe_t *nb[4] = { 0, 0, 0, 0 };
        col_t *ncs[4] = { 0, 0, 0, 0 };
        static const int DX[4] = { 0, 1, 0, -1 }, DY[4] = { -1, 0, 1, 0 };
        static const uint32_t OPP[4] = { PS, PW, PN, PE_ };
        for (int pi = 0; pi < 4; pi++) {
            if (!(tx & (1u << pi))) continue;
            if (p->nb_edge[pi]) continue;  /* to the host */
            pe_t *q = p->nb[pi];
            if (!q) {
                int64_t nx = (int64_t)p->x + DX[pi], ny = (int64_t)p->y + DY[pi];
                fault(f, p, WSE_FK_EMPTY_PE, -1, t, "a wavelet on color %u leaves through %s to PE (%lld,%lld), which has no program",
                      c, port_name(1 << pi), (long long)nx, (long long)ny);
                f->fault.color = (int)c; f->fault.port = 1 << pi;
                SET_PARK_REM();
                return;
            }
            col_t *qc = col_of(q, c);
            if (!qc || !(qc->rx[qc->pos] & OPP[pi])) {
                char rxs[64] = "{}";
                if (qc) ports_str(qc->rx[qc->pos], rxs, sizeof rxs);
                fault(f, q, WSE_FK_ROUTE, -1, t, "a wavelet on color %u from PE (%u,%u) enters through %s, but %s",
                      c, p->x, p->y, port_name((int)OPP[pi]), qc ? "the current route's rx does not include it" : "this PE has no route for the color");
                if (qc) {
                    fault_reason_app(f, " (rx = %s, position %u)", rxs, qc->pos);
                    rep_app(f, "  route: color %u position %u rx = %s\n", c, qc->pos, rxs);
                }
                fault_add_sender(f, p);
                f->fault.color = (int)c; f->fault.port = (int)OPP[pi];
                SET_PARK_REM();
                return;
            }
            nb[pi] = q; ncs[pi] = qc;
        }
        /* stall checks: a full destination queue parks the color (see unpark) */
        int full = 0;
        for (int pi = 0; pi < 4; pi++)
            if (ncs[pi] && ncs[pi]->rb.n >= ncs[pi]->rb.cap) full = 1;
        if ((tx & PR) && cs->iq.n >= cs->iq.cap) full = 1;
        if (full || (tx & used)) {
            p->st_stalls++;
            f->cycle_stalls++;
            if (full) {
                p->parked |= 1u << c;
                p->park_t[c] = t + 1;
                for (int pi = 0; pi < 4; pi++)
                    if (p->nb[pi]) p->nb[pi]->nbparked |= 1u << c;
            } else {
                *rwake = t + 1;             /* waits for a port: look again next cycle */
                if (!grow((void **)&f->stall_pes, &f->stall_cap, f->stall_n + 1, sizeof(uint32_t)))
                    f->stall_pes[f->stall_n++] = p->idx;
                else nomem(f, "the list of stalled routers");
            }
            continue;
        }
        /* move */
        int from_oq = src == &cs->oq;
        *rwake = t + 1;                     /* moved: the next head may be ready next cycle */
        q_pop(src);
        f->buffered--;
        used |= tx;
        /* room in rb[c], or a new switch position: the neighbours parked on c may go on */
        if ((!from_oq || w.ctrl) && ((p->nbparked >> c) & 1)) {
            p->nbparked &= ~(1u << c);      /* (all of them are unparked now) */
            for (int pi = 0; pi < 4; pi++) {
                pe_t *q = p->nb[pi];
                if (q && ((q->parked >> c) & 1)) unpark(f, q, c);
            }
        }
        for (int pi = 0; pi < 4; pi++) {
            if (!(tx & (1u << pi))) continue;
            f->st_hops++; p->st_hops++;
            if (ncs[pi]) {
                q_push(&ncs[pi]->rb, w.payload, w.ctrl, t + hop);
                if (t + hop < f->rwake[nb[pi]->idx]) f->rwake[nb[pi]->idx] = t + hop;
                f->buffered++;
                nb[pi]->qmask |= 1u << c;
                ract_add(f, nb[pi]);
            } else {
                if (!grow((void **)&f->out, &f->out_cap, f->out_n + 1, sizeof(wse_host_wavelet))) {
                    wse_host_wavelet *o = &f->out[f->out_n++];
                    o->x = p->x; o->y = p->y; o->port = 1u << pi; o->color = c; o->payload = w.payload; o->ctrl = w.ctrl; o->cycle = t;
                } else nomem(f, "the buffer of wavelets sent to the host");
                f->st_host_out++;
            }
        }
        if (tx & PR) {
            f->st_hops++; p->st_hops++;
            p->st_recv++;
            if (w.ctrl) {
                if (f->tracing) trace(f, 3, p, c, w.payload, t, t);
                activate_ctrl(f, p, c, w.payload, from_oq, t);
                if (f->faulted) { SET_PARK_REM(); return; }
            } else {
                q_push(&cs->iq, w.payload, 0, t + 1);
                f->buffered++;
                if (f->tracing) trace(f, 3, p, c, w.payload, t + 1, t + 1);
                if (ce_wants_iq(p, c)) sched(f, p, t + 1);
            }
        }
        if (w.ctrl) cs->pos = (uint8_t)((cs->pos + 1) % cs->npos);
        cs->toggle ^= 1;
        qmask_update(p, cs);
        /* room appeared in oq; or the switch moved, and a send or fabout waiting for room must
           check the new position's route this cycle (the route check comes first) */
        if ((from_oq || w.ctrl) && p->mstate != M_RUN) sched(f, p, t);
        else if ((from_oq || w.ctrl) && p->ut_mask) sched(f, p, t);
        f->happened = 1;
    }
#undef SET_PARK_REM
}

/* Sorting PE indices (keys < W*H): phase 1 merges the routers that became active in a cycle.
   qsort's comparator calls were a visible share of a busy cycle, so long arrays get an LSD
   radix sort (digits of at most 11 bits, as few passes as W*H needs) through a scratch buffer
   kept in the fabric; short ones an insertion sort. The result is the same ascending order.
   (Phase 2 needs no sort: calendar buckets are bitmaps read in index order.) */
static unsigned idx_bits(const wse_fabric_t *f) {
    uint64_t m = (uint64_t)f->W * f->H - 1;
    unsigned b = 1;
    while (m >> b) b++;
    return b;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void sort_idx32(wse_fabric_t *f, uint32_t *v, size_t n) {
    if (n < 48) {
        for (size_t i = 1; i < n; i++) {
            uint32_t x = v[i]; size_t j = i;
            while (j && v[j - 1] > x) { v[j] = v[j - 1]; j--; }
            v[j] = x;
        }
        return;
    }
    if (grow((void **)&f->sort_tmp, &f->sort_cap, n, sizeof(uint64_t))) {
        qsort(v, n, sizeof(uint32_t), cmp_u32);
        return;
    }
    unsigned bits = idx_bits(f), passes = (bits + 10) / 11, db = (bits + passes - 1) / passes;
    uint32_t *src = v, *dst = (uint32_t *)(void *)f->sort_tmp;
    uint32_t cnt[1u << 11];
    for (unsigned pass = 0, sh = 0; pass < passes; pass++, sh += db) {
        uint32_t nd = 1u << db, mask = nd - 1, sum = 0;
        memset(cnt, 0, nd * sizeof cnt[0]);
        for (size_t i = 0; i < n; i++) cnt[(src[i] >> sh) & mask]++;
        for (uint32_t d = 0; d < nd; d++) { uint32_t c = cnt[d]; cnt[d] = sum; sum += c; }
        for (size_t i = 0; i < n; i++) dst[cnt[(src[i] >> sh) & mask]++] = src[i];
        uint32_t *tmp = src; src = dst; dst = tmp;
    }
    if (src != v) memcpy(v, src, n * sizeof(uint32_t));
}

static void phase1(wse_fabric_t *f, uint64_t t) {
    /* merge newly active routers */
    if (f->rnew_n) {
        /* routers that rejoined the list in the meantime (ract_rejoin) are in it already */
        size_t m = 0;
        for (size_t j = 0; j < f->rnew_n; j++) {
            pe_t *q = f->pes[f->rnew[j]];
            if (q->in_ract == 2) { q->in_ract = 1; f->rnew[m++] = f->rnew[j]; }
        }
        f->rnew_n = m;
        sort_idx32(f, f->rnew, f->rnew_n);
        if (grow((void **)&f->ract, &f->ract_cap, f->ract_n + f->rnew_n, sizeof(uint32_t))) { nomem(f, "the list of active routers"); return; }
        /* merge from the back */
        size_t i = f->ract_n, j = f->rnew_n, k = f->ract_n + f->rnew_n;
        while (j) {
            if (i && f->ract[i - 1] > f->rnew[j - 1]) f->ract[--k] = f->ract[--i];
            else f->ract[--k] = f->rnew[--j];
        }
        f->ract_n += f->rnew_n;
        f->rnew_n = 0;
    }
    /* routers that become active now join at the next cycle, except those that rejoin behind
       the visit in progress (f->late, see ract_rejoin): both lists are visited in index order */
    if (grow((void **)&f->ract2, &f->ract2_cap, f->ract_n + 1, sizeof(uint32_t))) { nomem(f, "the list of active routers"); return; }
    size_t keep = 0, i = 0;
    const size_t n = f->ract_n;
    f->late_h = f->late_n = 0;
    for (;;) {
        uint32_t r;
        if (f->late_h < f->late_n && (i >= n || f->late[f->late_h] < f->ract[i])) {
            r = f->late[f->late_h++];
            if (grow((void **)&f->ract2, &f->ract2_cap, keep + (n - i) + 1, sizeof(uint32_t))) { nomem(f, "the list of active routers"); return; }
        } else if (i < n) r = f->ract[i++];
        else break;
        uint64_t rw = f->rwake[r];
        if (rw > t) {
            /* nothing it holds can move before rw: this visit would change nothing (no move,
               no stall; parked colors count their stalls by themselves) */
            if (rw == NEVER) { f->pes[r]->in_ract = 0; continue; }
            if (rw < f->next_router_t) f->next_router_t = rw;
            f->ract2[keep++] = r;
            continue;
        }
        pe_t *p = f->pes[r];
        f->cur_r = p->idx;
        router_step(f, p, t);
        if (f->faulted) return;
        if ((p->qmask || p->hq_ports) && f->rwake[r] != NEVER) f->ract2[keep++] = r;
        else p->in_ract = 0;
    }
    f->late_h = f->late_n = 0;
    uint32_t *tmp = f->ract; f->ract = f->ract2; f->ract2 = tmp;
    size_t tc = f->ract_cap; f->ract_cap = f->ract2_cap; f->ract2_cap = tc;
    f->ract_n = keep;
}

/* ------------------------------------------------------------------------------------------ */
/* compute engines (phase 2)                                                                  */

static void commit_run(pe_t *p) {
    p->st_instr += p->run_n;
    p->run_n = 0; p->run_nx = 0;
}

static void run_extra(pe_t *p, uint32_t idx, uint32_t extra) {
    if (p->run_nx + 2 > p->run_xcap) {
        uint32_t nc = p->run_xcap ? p->run_xcap * 2 : 16;
        uint32_t *nx = (uint32_t *)realloc(p->run_x, nc * sizeof(uint32_t));
        if (!nx) return;
        p->run_x = nx; p->run_xcap = nc;
    }
    p->run_x[p->run_nx++] = idx;
    p->run_x[p->run_nx++] = extra;
}

/* instructions whose own cycle is < t */
static uint64_t pe_instr(const pe_t *p, uint64_t t) {
    uint64_t n = p->st_instr;
    if (!p->run_n || t <= p->run_t0) return n;
    uint64_t own = p->run_t0;
    uint32_t xi = 0;
    for (uint32_t j = 0; j < p->run_n; j++) {
        if (own >= t) break;
        n++;
        uint64_t cost = 1;
        if (xi < p->run_nx && p->run_x[xi] == j) { cost += p->run_x[xi + 1]; xi += 2; }
        own += cost;
    }
    return n;
}

static int task_runnable(pe_t *p, uint64_t t, int *tid) {
    const image_t *img = p->img;
    uint64_t cand = p->activated & img->local_mask & ~p->blocked;
    uint64_t dm = img->data_mask & ~p->blocked;
    while (dm) {
        int d = __builtin_ctzll(dm);
        dm &= dm - 1;
        col_t *cs = col_of(p, img->tasks[d].color);
        if (cs && cs->iq.n && q_head(&cs->iq)->ready <= t) cand |= 1ull << d;
    }
    if (!cand) return 0;
    *tid = __builtin_ctzll(cand);
    return 1;
}

static void end_task(wse_fabric_t *f, pe_t *p, uint64_t t) {
    p->st_busy += t + 1 - p->task_start;
    if (f->tracing) trace(f, 1, p, (uint32_t)p->task, 0, p->task_start, t + 1);
    p->task = -1;
    p->mstate = M_IDLE;
    p->next_t = t + 1;
    sched(f, p, t + 1);
}

/* the head of iq of the route cols[s] (s: op_t.sa or .sb) is ready at t: returns its col_t;
   otherwise NULL, and when a wavelet waits that is not ready yet, the CE comes back when it is */
static inline col_t *fab_in(wse_fabric_t *f, pe_t *p, int s, uint64_t t) {
    if (s < 0) return NULL;
    col_t *cs = &p->cols[s];
    if (!cs->iq.n) return NULL;
    uint64_t ready = cs->slots[2][cs->iq.head].ready;   /* q_head (iq.w is slots[2]) */
    if (ready > t) { sched(f, p, ready); return NULL; }
    return cs;
}

/* take the head of a fabin source's iq (the low half for a 16-bit element) */
static inline uint32_t fab_take(wse_fabric_t *f, pe_t *p, col_t *cs, uint32_t e) {
    uint32_t payload = q_head(&cs->iq)->payload;
    q_pop(&cs->iq);
    f->buffered--;
    wake(f, p, cs->color);
    return e == 2 ? payload : (payload & 0xffffu);
}

/* the per-element fields of pe_t.mop share one cache line with pe_t.mem */
_Static_assert(offsetof(pe_t, mem) % CACHE_LINE == 0 && offsetof(pe_t, mop) == offsetof(pe_t, mem) + 8
               && offsetof(op_t, start_t) == OP_STEP_BYTES && 8 + OP_STEP_BYTES <= CACHE_LINE,
               "pe_t.mem and the step fields of pe_t.mop are not in one cache line");

/* address of element i of memory operand k (0 dst, 1 src0, 2 src1) of a fabric op */
static inline int64_t op_addr(const op_t *op, uint32_t k, const dsr_t *d, uint64_t i, uint32_t e) {
    if ((op->lin >> k) & 1) return (int64_t)op->base[k] + (int64_t)i * op->step[k];
    return dsd_addr(d, i, e);
}

/* the destination route of a fabout op whose next element may go now: NULL when its oq is
   full, or on a fault (no route for the color, or RAMP not in its current rx) */
static inline __attribute__((always_inline)) col_t *fab_out(wse_fabric_t *f, pe_t *p, op_t *op, uint64_t t) {
    uint32_t c = op->d.color;
    col_t *cout = op->sd < 0 ? NULL : &p->cols[op->sd];
    if (!cout) {
        fault(f, p, WSE_FK_ROUTE, (int)op->pc, t, "fabout on color %u, but the PE has no route for it", c);
        f->fault.color = (int)c; return NULL;
    }
    if (!(cout->rx[cout->pos] & PR)) {
        fault(f, p, WSE_FK_ROUTE, (int)op->pc, t, "fabout on color %u, but RAMP is not in rx of the current position %u", c, cout->pos);
        f->fault.color = (int)c; f->fault.port = PR; return NULL;
    }
    return cout->oq.n >= cout->oq.cap ? NULL : cout;
}

/* an element of a fabout op into its oq (ready next cycle) */
static inline __attribute__((always_inline)) void fab_push(wse_fabric_t *f, pe_t *p, col_t *cout, uint32_t v, uint64_t t) {
    q_push(&cout->oq, v, 0, t + 1);
    if (t + 1 < f->rwake[p->idx]) f->rwake[p->idx] = t + 1;
    f->buffered++;
    p->st_sent++;
    qmask_update(p, cout);
    ract_add(f, p);
}

/* the specialised paths of fab_step (op_t.kind): the workload's 32-bit ops with their fabric
   operands in the pattern fab (as op_t.fab: 1 src0 fabin, 4 dst fabout, 5 both) and every memory
   operand lin. FK(o, fab) with o the index of the opcode in FK_OPS. */
#define FK_OPS(X) X(0, WSE_OP_MOV32_V) X(1, WSE_OP_FMOVS_V) X(2, WSE_OP_FADDS_VV) X(3, WSE_OP_FMULS_VV)
#define FK(o, fab) (1 + 3 * (o) + ((fab) == 1 ? 0 : (fab) == 4 ? 1 : 2))

/* the same steps as the general path of fab_step, for a constant opcode and fab pattern */
static inline __attribute__((always_inline))
int fab_step_k(wse_fabric_t *f, pe_t *p, op_t *op, uint64_t t, const uint8_t opcode, const int fab) {
    const int two = opcode == WSE_OP_FADDS_VV || opcode == WSE_OP_FMULS_VV;
    col_t *ca = NULL, *cout = NULL;
    if ((fab & 1) && !(ca = fab_in(f, p, op->sa, t))) return 0;
    if ((fab & 4) && !(cout = fab_out(f, p, op, t))) return 0;
    int64_t i = op->done;
    uint32_t x0, x1 = 0, r;
    if (fab & 1) x0 = fab_take(f, p, ca, 2);
    else x0 = mem_ld(p->mem, (int64_t)op->base[1] + i * op->step[1], 2);
    if (two) x1 = mem_ld(p->mem, (int64_t)op->base[2] + i * op->step[2], 2);
    switch (opcode) {
    case WSE_OP_FADDS_VV: r = canon_s(bf(x0) + bf(x1)); break;
    case WSE_OP_FMOVS_V: r = canon_s(bf(x0)); break;
    case WSE_OP_FMULS_VV: r = canon_s(bf(x0) * bf(x1)); break;
    default: r = x0; break;
    }
    if (fab & 4) {
        fab_push(f, p, cout, r, t);
    } else {
        mem_st(p->mem, (int64_t)op->base[0] + i * op->step[0], 2, r);
    }
    op->done++;
    p->st_elems++;
    f->happened = 1;
    return 1;
}

/* step a fabric op one element; returns 1 when an element was processed. It reads the fields
   decoded at issue (the first OP_STEP_BYTES of op_t), and the DSRs only for a mem4d operand. */
static inline __attribute__((always_inline)) int fab_step_i(wse_fabric_t *f, pe_t *p, op_t *op, uint64_t t) {
    switch (op->kind) {
#define FK_CASES(o, opc) \
    case FK(o, 1): return fab_step_k(f, p, op, t, opc, 1); \
    case FK(o, 4): return fab_step_k(f, p, op, t, opc, 4); \
    case FK(o, 5): return fab_step_k(f, p, op, t, opc, 5);
    FK_OPS(FK_CASES)
#undef FK_CASES
    default: break;
    }
    col_t *ca = NULL, *cb = NULL, *cout = NULL;
    if ((op->fab & 1) && !(ca = fab_in(f, p, op->sa, t))) return 0;
    if ((op->fab & 2) && !(cb = fab_in(f, p, op->sb, t))) return 0;
    if ((op->fab & 4) && !(cout = fab_out(f, p, op, t))) return 0;
    uint64_t i = op->done;
    uint32_t x0 = 0, x1 = 0;
    if (ca) x0 = fab_take(f, p, ca, op->ea);
    else if (op->ea) x0 = mem_ld(p->mem, op_addr(op, 1, &op->a, i, op->ea), op->ea);
    if (cb) x1 = fab_take(f, p, cb, op->eb);
    else if (op->eb) x1 = mem_ld(p->mem, op_addr(op, 2, &op->b, i, op->eb), op->eb);
    /* the workload's common ops first (the same expressions as in elem) */
    uint32_t r;
    switch (op->opcode) {
    case WSE_OP_FADDS_VV: r = canon_s(bf(x0) + bf(x1)); break;
    case WSE_OP_FMOVS_V: r = canon_s(bf(x0)); break;
    case WSE_OP_FMULS_VV: r = canon_s(bf(x0) * bf(x1)); break;
    case WSE_OP_MOV32_V: r = x0; break;
    default: r = elem(op->opcode, x0, x1, op->rs); break;
    }
    uint32_t ed = op->ed;
    if (cout) {
        fab_push(f, p, cout, ed == 2 ? r : (r & 0xffffu), t);
    } else {
        mem_st(p->mem, op_addr(op, 0, &op->d, i, ed), ed, r);
    }
    op->done++;
    p->st_elems++;
    f->happened = 1;
    return 1;
}

/* (fab_step_i is inlined in mop_step, the main thread's op, which takes most elements) */
static int fab_step(wse_fabric_t *f, pe_t *p, op_t *op, uint64_t t) { return fab_step_i(f, p, op, t); }

static void op_complete(wse_fabric_t *f, pe_t *p, op_t *op) {
    if (op->act == 2) {
        if (!p->img->tasks[op->tid].defined) {
            fault(f, p, WSE_FK_TASK, (int)op->pc, f->t, "async op completion activates task %u, which is not defined", op->tid);
            return;
        }
        p->activated |= 1ull << op->tid;
    } else if (op->act == 3) {
        p->blocked &= ~(1ull << op->tid);
    }
}

static void ut_step_(wse_fabric_t *f, pe_t *p, int u, op_t *op, uint64_t t) {
    if (op->finish_t == NEVER && t >= op->start_t) {
        if (op->n == 0) op->finish_t = t;
        else if (fab_step(f, p, op, t)) {
            if (op->done == op->n) op->finish_t = t + 1;
            sched(f, p, t + 1);
        }
        /* else: waits for a wavelet or room; the routers wake the CE */
    }
    if (op->finish_t != NEVER && t >= op->finish_t) {
        if (f->tracing) trace(f, 2, p, op->opcode, (uint32_t)u, op->start_t, t);
        op->busy = 0;
        p->ut_mask &= (uint8_t)~(1u << u);
        f->happened = 1;
        op_complete(f, p, op);
    }
}

/* (a fault while the op steps or completes is the microthread's: see fault()) */
static void ut_step(wse_fabric_t *f, pe_t *p, int u, uint64_t t) {
    op_t *op = &p->ut[u];
    f->cur_ut = u;
    ut_step_(f, p, u, op, t);
    f->cur_ut = -1;
}

/* one event of the main thread's synchronous fabric op; returns 1 when it finished in this
   event (the pc then moves past it and a run starts in the same event) */
static int mop_step(wse_fabric_t *f, pe_t *p, uint64_t t) {
    op_t *op = &p->mop;
    if (op->finish_t != NEVER) {
        if (t < op->finish_t) return 0;
        if (f->tracing) trace(f, 2, p, op->opcode, 8, op->start_t, t);
        op->busy = 0;
        p->pc = op->pc + 1;
        p->mstate = M_RUN;
        p->next_t = t;
        f->happened = 1;
        return 1;
    }
    if (op->n == 0) { op->finish_t = t + 1; sched(f, p, t + 1); return 0; }
    if (fab_step_i(f, p, op, t)) {
        if (op->done == op->n) op->finish_t = t + 1;
        sched(f, p, t + 1);
    }
    return 0;
}

static uint32_t tensor_cycles(wse_fabric_t *f, const insn_desc_t *in, uint64_t n, int unit) {
    uint32_t w = unit ? f->P.simd[in->cls] : 1;
    if (!w) w = 1;
    uint64_t c = (n + w - 1) / w;
    if (c < 1) c = 1;
    return c > 0xffffffffull ? 0xffffffffu : (uint32_t)c;
}

/* decode the operands of a fabric op (op->d, a, b set, the rest of op zero) into the fields its
   steps read (see op_t) */
static void op_decode(op_t *op, const insn_desc_t *in, const pe_t *p) {
    op->ed = (uint8_t)esize(in->td);
    op->ea = in->t0 ? (uint8_t)esize(in->t0) : 0;
    op->eb = in->t1 ? (uint8_t)esize(in->t1) : 0;
    op->fab = (uint8_t)((op->ea && op->a.kind == WSE_DSD_FABIN) | (op->eb && op->b.kind == WSE_DSD_FABIN) << 1
                        | (op->d.kind == WSE_DSD_FABOUT) << 2);
    op->sd = op->fab & 4 ? p->cslot[op->d.color] : -1;   /* (the routes do not change after a load) */
    op->sa = op->fab & 1 ? p->cslot[op->a.color] : -1;
    op->sb = op->fab & 2 ? p->cslot[op->b.color] : -1;
    const dsr_t *opd[3] = { &op->d, &op->a, &op->b };
    const uint8_t ope[3] = { op->ed, op->ea, op->eb };
    for (int k = 0; k < 3; k++) {
        int64_t step = (int64_t)opd[k]->stride[0] * ope[k];
        if (opd[k]->kind != WSE_DSD_MEM1D || step != (int32_t)step) continue;
        op->lin |= (uint8_t)(1u << k);
        op->base[k] = opd[k]->base;
        op->step[k] = (int32_t)step;
    }
    /* a specialised path: its fabric pattern, its memory operands lin (dst when not fabout,
       src0 when not fabin, src1 of a two-source op) */
    uint8_t mem = (uint8_t)((op->fab & 4 ? 0 : 1) | (op->fab & 1 ? 0 : 2) | (op->eb ? 4 : 0));
    if ((op->fab == 1 || op->fab == 4 || op->fab == 5) && (op->lin & mem) == mem && op->ed == 2 && op->ea == 2
        && (!op->eb || op->eb == 2)) {
#define FK_SET(o, opc) if (op->opcode == (opc)) op->kind = (uint8_t)FK(o, op->fab);
        FK_OPS(FK_SET)
#undef FK_SET
    }
}

/* Set up a tensor op at pc. Returns: -1 fault; otherwise the main-thread cost (>= 1) when the op
   was memory-only or async, or 0 when it is a synchronous fabric op now held in p->mop.
   Checks in the order of the Clarifications: ut busy, DSR kinds, counts, memory, queue busy. */
/* min(cap, the lag in elements) when the contiguous source [s, s + n es) starts before the
   contiguous destination [d, d + n ed) and overlaps it (1 for a source of another element size);
   else cap */
static inline uint32_t lag_width(uint32_t d, uint32_t ed, uint32_t s, uint32_t es, uint64_t n, uint32_t cap) {
    if (s >= d || (uint64_t)s + n * es <= d) return cap;
    uint32_t lag = es == ed ? (d - s) / ed : 1;
    if (!lag) lag = 1;
    return lag < cap ? lag : cap;
}

/* The PE's datapath for a memory-only op of cyc cycles issued at t: it starts when the previous
   one has finished (timing.md, Instruction costs); returns the start. The op's effect stays at
   issue; its cost to the issuing thread is start + cyc - t. */
static inline uint64_t dp_take(pe_t *p, uint64_t t, uint32_t cyc) {
    uint64_t start = p->dp_free > t ? p->dp_free : t;
    p->dp_free = start + cyc;
    return start;
}

/* A memory-only op whose operands are checked: all its elements now (unit: every operand
   unit-stride); returns its cycles. */
static inline uint32_t mem_op_now(wse_fabric_t *f, pe_t *p, const dinsn_t *di, const insn_desc_t *in,
                                  const dsr_t *d, const dsr_t *a, const dsr_t *b, uint32_t rs, uint64_t n, int unit,
                                  uint64_t t, uint64_t *start_out) {
    p->st_elems += n;
    f->work += n >> 3;
    tensor_mem_all(p, di->op, in, d, a, b, rs, n, unit);
    uint32_t cyc = tensor_cycles(f, in, n, unit);
    if (unit && n > 1) {
        /* a recurrence: a source that starts L < width elements before the destination and
           overlaps it reads, in element order, what this op wrote L elements earlier, so at most
           L elements go per cycle (timing.md, Instruction costs) */
        uint32_t ed = esize(in->td), cap = UINT32_MAX;
        if (in->t0 && a) cap = lag_width(d->base, ed, a->base, esize(in->t0), n, cap);
        if (in->t1 && b) cap = lag_width(d->base, ed, b->base, esize(in->t1), n, cap);
        uint32_t w = f->P.simd[in->cls];
        if (cap < w) cyc = (uint32_t)((n + cap - 1) / cap);
    }
    uint64_t start = dp_take(p, t, cyc);
    if (start_out) *start_out = start;
    /* an async op is traced once, when its microthread completes it (ut_step) */
    if (f->tracing && !di->act) trace(f, 2, p, di->op, 8, start, start + cyc);
    uint64_t total = start + cyc - t;
    return total > 0xffffffffull ? 0xffffffffu : (uint32_t)total;
}

static int64_t tensor_issue(wse_fabric_t *f, pe_t *p, const dinsn_t *di, uint32_t pc, uint64_t t) {
    const insn_desc_t *in = wse__insn_by_op(di->op);
    /* The GEMV column loop's op (a decode issues ~0.7M per step): a synchronous fmachs over
       three contiguous mem1d operands of equal length that lie inside SRAM (d outside the code)
       cannot fault, so the general checks below are skipped; same effects and cost. */
    if (di->op == WSE_OP_FMACHS && !di->act) {
        const dsr_t *d = &p->dsr[di->r1], *a = &p->dsr[8 + di->r2], *b = &p->dsr[16 + di->r3];
        uint64_t n = d->len[0];
        if (d->kind == WSE_DSD_MEM1D && a->kind == WSE_DSD_MEM1D && b->kind == WSE_DSD_MEM1D
            && d->stride[0] == 1 && a->stride[0] == 1 && b->stride[0] == 1
            && n && a->len[0] == n && b->len[0] == n
            && span_ok(f, p, d->base, (int64_t)d->base + 2 * ((int64_t)n - 1), d->base, 2, 1)
            && span_ok(f, p, a->base, (int64_t)a->base + 2 * ((int64_t)n - 1), a->base, 2, 0)
            && span_ok(f, p, b->base, (int64_t)b->base + (int64_t)n - 1, b->base, 1, 0)
            && fmachs_ok(d->base, a->base, b->base, n)) {
            p->st_elems += n;
            f->work += n >> 3;
            fmachs_run((float *)(void *)(p->mem + d->base), (const float *)(const void *)(p->mem + a->base),
                       p->mem + b->base, n, bf(p->regs[di->rs]));
            uint32_t cyc = tensor_cycles(f, in, n, 1);
            uint64_t start = dp_take(p, t, cyc);
            if (f->tracing) trace(f, 2, p, di->op, 8, start, start + cyc);
            return (uint32_t)(start + cyc - t);
        }
    }
    const dsr_t *d = &p->dsr[di->r1];
    const dsr_t *a = (in->form == WSE_FORM_VV || in->form == WSE_FORM_VS || in->form == WSE_FORM_V || in->form == WSE_FORM_VVS) ? &p->dsr[8 + di->r2] : NULL;
    const dsr_t *b = (in->form == WSE_FORM_VV || in->form == WSE_FORM_VVS) ? &p->dsr[16 + di->r3] : NULL;
    uint32_t rs = p->regs[di->rs];
    /* Any other synchronous op over mem1d operands of equal length whose elements all lie
       inside SRAM (aligned, the destination outside the code) cannot fault either: the checks
       below would pass, so it runs at once, with the same effects and cost (the attention's
       score loop issues ~0.6M such fmacs per step once the chain PEs hold two positions). */
    if (!di->act && d->kind == WSE_DSD_MEM1D && (!a || a->kind == WSE_DSD_MEM1D) && (!b || b->kind == WSE_DSD_MEM1D)) {
        uint64_t n = d->len[0];
        if (n && (!a || a->len[0] == n) && (!b || b->len[0] == n)
            && mem1d_ok(f, p, d, n, esize(in->td), 1) && (!a || mem1d_ok(f, p, a, n, esize(in->t0), 0))
            && (!b || mem1d_ok(f, p, b, n, esize(in->t1), 0))) {
            int unit = d->stride[0] == 1 && (!a || a->stride[0] == 1) && (!b || b->stride[0] == 1);
            return mem_op_now(f, p, di, in, d, a, b, rs, n, unit, t, NULL);
        }
    }
    if (di->act && (p->ut_mask >> di->ut & 1)) {
        const op_t *bo = &p->ut[di->ut];
        text_t at = { 0 };
        pc_at_app(&at, p, bo->pc, ", ");
        fault(f, p, WSE_FK_UT_BUSY, (int)pc, t, "microthread ut%u is busy with the %s issued at pc %u%s (%u of %u elements "
              "done); wait for its completion (activate or unblock a task with it) or use another microthread", di->ut,
              opcode_mnemonic(bo->opcode), bo->pc, text_str(&at), bo->done, bo->n);
        text_free(&at);
        return -1;
    }
    /* the reports name each DSR with the DSD it was loaded from (dsr_paren_app) */
    const dsr_src_t *src_d = &p->dsr_src[di->r1];
    if (!d->kind || d->kind == WSE_DSD_FABIN) {
        text_t org = { 0 };
        dsr_paren_app(f, &org, p, src_d);
        fault(f, p, WSE_FK_DSD_KIND, (int)pc, t, "destination d%u%s %s", di->r1, text_str(&org),
              d->kind ? "is a fabin DSD" : "is an empty DSR");
        text_free(&org);
        return -1;
    }
    const dsr_t *srcs[2] = { a, b };
    const char *sn[2] = { "a", "b" };
    uint8_t sidx[2] = { di->r2, di->r3 };
    const dsr_src_t *src_s[2] = { &p->dsr_src[8 + di->r2], &p->dsr_src[16 + di->r3] };
    for (int k = 0; k < 2; k++) {
        if (!srcs[k]) continue;
        if (!srcs[k]->kind || srcs[k]->kind == WSE_DSD_FABOUT) {
            text_t org = { 0 };
            dsr_paren_app(f, &org, p, src_s[k]);
            fault(f, p, WSE_FK_DSD_KIND, (int)pc, t, "source %s%u%s %s", sn[k], sidx[k], text_str(&org),
                  srcs[k]->kind ? "is a fabout DSD" : "is an empty DSR");
            text_free(&org);
            return -1;
        }
    }
    uint64_t n = dsd_count(d);
    if (n == UINT64_MAX) {
        text_t org = { 0 };
        dsr_paren_app(f, &org, p, src_d);
        fault(f, p, WSE_FK_DSD_LENGTH, (int)pc, t, "destination d%u%s has more than 2^32 elements", di->r1, text_str(&org));
        text_free(&org);
        return -1;
    }
    for (int k = 0; k < 2; k++) {
        if (!srcs[k]) continue;
        uint64_t m = dsd_count(srcs[k]);
        if (m != n) {
            text_t org_s = { 0 }, org_d = { 0 };
            dsr_paren_app(f, &org_s, p, src_s[k]);
            dsr_paren_app(f, &org_d, p, src_d);
            fault(f, p, WSE_FK_DSD_LENGTH, (int)pc, t, "source %s%u%s has %llu elements but the destination d%u%s has %llu",
                  sn[k], sidx[k], text_str(&org_s), m == UINT64_MAX ? 0ull : (unsigned long long)m,
                  di->r1, text_str(&org_d), (unsigned long long)n);
            text_free(&org_s); text_free(&org_d);
            return -1;
        }
    }
    if (is_mem(d) && check_mem(f, p, d, n, esize(in->td), 1, 'd', di->r1, (int)pc, t)) return -1;
    if (a && is_mem(a) && check_mem(f, p, a, n, esize(in->t0), 0, 'a', di->r2, (int)pc, t)) return -1;
    if (b && is_mem(b) && check_mem(f, p, b, n, esize(in->t1), 0, 'b', di->r3, (int)pc, t)) return -1;
    int fabric = is_fab(d) || (a && is_fab(a)) || (b && is_fab(b));
    uint32_t colors = 0;
    if (a && b && is_fab(a) && is_fab(b) && a->color == b->color) {
        fault(f, p, WSE_FK_QUEUE_BUSY, (int)pc, t, "two fabric sources on color %u", a->color);
        f->fault.color = a->color; return -1;
    }
    if (is_fab(d)) colors |= 1u << d->color;
    if (a && is_fab(a)) colors |= 1u << a->color;
    if (b && is_fab(b)) colors |= 1u << b->color;
    uint32_t busy_colors = 0;
    for (int u = 0; u < NUT; u++) if (p->ut_mask >> u & 1) busy_colors |= p->ut[u].colors;
    if (colors & busy_colors) {
        int c = __builtin_ctz(colors & busy_colors), bu = 0;
        while (bu < NUT - 1 && !((p->ut_mask >> bu & 1) && (p->ut[bu].colors >> c & 1))) bu++;
        const op_t *bo = &p->ut[bu];
        text_t at = { 0 };
        pc_at_app(&at, p, bo->pc, ", ");
        fault(f, p, WSE_FK_QUEUE_BUSY, (int)pc, t, "color %d is used by an operation in progress: the %s on microthread "
              "ut%d, issued at pc %u%s (%u of %u elements done)", c, opcode_mnemonic(bo->opcode), bu, bo->pc, text_str(&at),
              bo->done, bo->n);
        text_free(&at);
        f->fault.color = c; return -1;
    }
    if (!fabric) {
        int unit = dsd_unit(d) && (!a || dsd_unit(a)) && (!b || dsd_unit(b));
        uint64_t start;
        uint32_t cyc = mem_op_now(f, p, di, in, d, a, b, rs, n, unit, t, &start);
        if (!di->act) return cyc;
        op_t *op = &p->ut[di->ut];
        memset(op, 0, sizeof *op);
        op->busy = 1; op->opcode = di->op; op->act = di->act; op->tid = di->tid; op->issuer = (int8_t)p->task;
        /* cyc counts from t: a wait for the datapath, then the op (mem_op_now) */
        op->n = (uint32_t)n; op->done = (uint32_t)n; op->finish_t = t + cyc; op->start_t = start; op->pc = pc;
        p->ut_mask |= (uint8_t)(1u << di->ut);
        sched(f, p, t + cyc);
        return 1;
    }
    op_t *op = di->act ? &p->ut[di->ut] : &p->mop;
    memset(op, 0, sizeof *op);
    op->busy = 1; op->opcode = di->op; op->act = di->act; op->tid = di->tid; op->issuer = (int8_t)p->task;
    op->n = (uint32_t)n; op->done = 0; op->d = *d;
    op->src[0] = *src_d;
    if (a) { op->a = *a; op->src[1] = *src_s[0]; }
    if (b) { op->b = *b; op->src[2] = *src_s[1]; }
    op_decode(op, in, p);
    op->rs = rs; op->colors = colors; op->finish_t = NEVER; op->pc = pc;
    if (di->act) {
        op->start_t = t + 1;
        p->ut_mask |= (uint8_t)(1u << di->ut);
        sched(f, p, t + 1);
        return 1;
    }
    op->start_t = t;
    return 0;
}

static inline int mem_fault_chk(wse_fabric_t *f, pe_t *p, int64_t a, uint32_t e, int store, uint32_t pc, uint64_t t) {
    if (a < 0 || a + (int64_t)e > (int64_t)f->sram_words) {
        fault(f, p, WSE_FK_MEM_RANGE, (int)pc, t, "address %lld (0x%llx) is outside SRAM (%u 16-bit words: a %u-byte access starts at word 0..%u)", (long long)a, (unsigned long long)a, f->sram_words, 2 * e, f->sram_words - e);
        f->fault.address = a; return 1;
    }
    if (e == 2 && (a & 1)) {
        fault(f, p, WSE_FK_MISALIGNED, (int)pc, t, "32-bit access at odd word address %lld", (long long)a);
        f->fault.address = a; return 1;
    }
    if (store && a < 2 * (int64_t)p->img->n_code) {
        fault(f, p, WSE_FK_WRITE_CODE, (int)pc, t, "store to word %lld, inside the code region [0, %u)", (long long)a, 2 * p->img->n_code);
        f->fault.address = a; return 1;
    }
    return 0;
}

static int send_try(wse_fabric_t *f, pe_t *p, uint32_t c, uint32_t payload, uint32_t ctrl, uint32_t pc, uint64_t t, int *ok) {
    col_t *cs = col_of(p, c);
    *ok = 0;
    if (!cs) { fault(f, p, WSE_FK_ROUTE, (int)pc, t, "send on color %u, but the PE has no route for it", c); f->fault.color = (int)c; return -1; }
    if (!(cs->rx[cs->pos] & PR)) {
        fault(f, p, WSE_FK_ROUTE, (int)pc, t, "send on color %u, but the current route (position %u) does not receive from RAMP", c, cs->pos);
        f->fault.color = (int)c; f->fault.port = PR; return -1;
    }
    if (cs->oq.n >= cs->oq.cap) return 0;
    q_push(&cs->oq, payload, ctrl, t + 1);
    if (t + 1 < f->rwake[p->idx]) f->rwake[p->idx] = t + 1;
    f->buffered++;
    p->st_sent++;
    qmask_update(p, cs);
    ract_add(f, p);
    *ok = 1;
    return 0;
}

#define R(i) p->regs[i]
#define WR(i, v) do { uint32_t v_ = (v); if (i) p->regs[i] = v_; } while (0)

/* Execute a run of instructions starting at t0 with `cost` already spent (by an instruction that
   executed at t0 before the call). */
static void ce_run(wse_fabric_t *f, pe_t *p, uint64_t t0, uint64_t cost) {
    const image_t *img = p->img;
    const dinsn_t *code = img->dec;
    const uint32_t n_code = img->n_code;
    uint32_t pc = p->pc;
    uint32_t count = p->run_n;
    for (;;) {
        if (pc >= n_code) {
            p->pc = pc;
            if (pc == n_code && p->hist_n && p->hist[(p->hist_n - 1) & (NHIST - 1)].pc == n_code - 1) {
                text_t at = { 0 };
                pc_at_app(&at, p, n_code - 1, ", at ");
                fault(f, p, WSE_FK_PC_RANGE, (long long)pc, t0 + cost, "pc %u is outside the code (%u instructions): the task "
                      "ran past the last instruction (pc %u%s); is an `exit` missing?", pc, n_code, n_code - 1, text_str(&at));
                text_free(&at);
            } else
                fault(f, p, WSE_FK_PC_RANGE, (long long)pc, t0 + cost, "pc %u is outside the code (%u instructions)", pc, n_code);
            return;
        }
        const dinsn_t *di = &code[pc];
        uint8_t op = di->op;
        const uint32_t ipc = pc;
        const uint64_t own = cost;       /* the instruction's own cycle is t0 + own */
        switch (op) {
        case WSE_OP_NOP: pc++; break;
        case WSE_OP_RDCYC: WR(di->r1, (uint32_t)(t0 + cost)); pc++; break;
        case WSE_OP_RDCYCH: WR(di->r1, (uint32_t)((t0 + cost) >> 32)); pc++; break;
        case WSE_OP_ADD: WR(di->r1, R(di->r2) + R(di->r3)); pc++; break;
        case WSE_OP_SUB: WR(di->r1, R(di->r2) - R(di->r3)); pc++; break;
        case WSE_OP_AND: WR(di->r1, R(di->r2) & R(di->r3)); pc++; break;
        case WSE_OP_OR: WR(di->r1, R(di->r2) | R(di->r3)); pc++; break;
        case WSE_OP_XOR: WR(di->r1, R(di->r2) ^ R(di->r3)); pc++; break;
        case WSE_OP_SLL: { uint32_t s = R(di->r3); WR(di->r1, s >= 32 ? 0 : R(di->r2) << s); pc++; break; }
        case WSE_OP_SRL: { uint32_t s = R(di->r3); WR(di->r1, s >= 32 ? 0 : R(di->r2) >> s); pc++; break; }
        case WSE_OP_SRA: { uint32_t s = R(di->r3); WR(di->r1, (uint32_t)((int32_t)R(di->r2) >> (s >= 32 ? 31 : s))); pc++; break; }
        case WSE_OP_MUL: WR(di->r1, R(di->r2) * R(di->r3)); pc++; break;
        case WSE_OP_SLT: WR(di->r1, (int32_t)R(di->r2) < (int32_t)R(di->r3)); pc++; break;
        case WSE_OP_SLTU: WR(di->r1, R(di->r2) < R(di->r3)); pc++; break;
        case WSE_OP_ADDI: WR(di->r1, R(di->r2) + (uint32_t)di->imm); pc++; break;
        case WSE_OP_ANDI: WR(di->r1, R(di->r2) & (uint32_t)di->imm); pc++; break;
        case WSE_OP_ORI: WR(di->r1, R(di->r2) | (uint32_t)di->imm); pc++; break;
        case WSE_OP_XORI: WR(di->r1, R(di->r2) ^ (uint32_t)di->imm); pc++; break;
        case WSE_OP_SLLI: WR(di->r1, R(di->r2) << di->imm); pc++; break;
        case WSE_OP_SRLI: WR(di->r1, R(di->r2) >> di->imm); pc++; break;
        case WSE_OP_SRAI: WR(di->r1, (uint32_t)((int32_t)R(di->r2) >> di->imm)); pc++; break;
        case WSE_OP_LUI: WR(di->r1, (uint32_t)di->imm << 16); pc++; break;
        case WSE_OP_SLTI: WR(di->r1, (int32_t)R(di->r2) < di->imm); pc++; break;
        case WSE_OP_LD16: case WSE_OP_LD16S: case WSE_OP_LD32: case WSE_OP_ST16: case WSE_OP_ST32: {
            /* addresses are 32-bit: r2 + imm16 computed mod 2^32, taken as unsigned */
            int64_t a = (int64_t)(uint32_t)(R(di->r2) + (uint32_t)di->imm);
            uint32_t e = (op == WSE_OP_LD32 || op == WSE_OP_ST32) ? 2 : 1;
            int st = op == WSE_OP_ST16 || op == WSE_OP_ST32;
            if (mem_fault_chk(f, p, a, e, st, pc, t0 + cost)) { p->pc = pc; return; }
            if (op == WSE_OP_LD16) WR(di->r1, p->mem[a]);
            else if (op == WSE_OP_LD16S) WR(di->r1, (uint32_t)(int32_t)(int16_t)p->mem[a]);
            else if (op == WSE_OP_LD32) WR(di->r1, mem_ld(p->mem, a, 2));
            else mem_st(p->mem, a, e, R(di->r1));
            pc++; break;
        }
        case WSE_OP_BEQ: pc = R(di->r1) == R(di->r2) ? pc + (uint32_t)di->imm : pc + 1; break;
        case WSE_OP_BNE: pc = R(di->r1) != R(di->r2) ? pc + (uint32_t)di->imm : pc + 1; break;
        case WSE_OP_BLT: pc = (int32_t)R(di->r1) < (int32_t)R(di->r2) ? pc + (uint32_t)di->imm : pc + 1; break;
        case WSE_OP_BGE: pc = (int32_t)R(di->r1) >= (int32_t)R(di->r2) ? pc + (uint32_t)di->imm : pc + 1; break;
        case WSE_OP_BLTU: pc = R(di->r1) < R(di->r2) ? pc + (uint32_t)di->imm : pc + 1; break;
        case WSE_OP_BGEU: pc = R(di->r1) >= R(di->r2) ? pc + (uint32_t)di->imm : pc + 1; break;
        case WSE_OP_JMP: pc = (uint32_t)di->imm; break;
        case WSE_OP_CALL: p->regs[15] = pc + 1; pc = (uint32_t)di->imm; break;
        case WSE_OP_JR: pc = R(di->r1); break;   /* checked at the next fetch */
        case WSE_OP_ADDF: WR(di->r1, canon_s(bf(R(di->r2)) + bf(R(di->r3)))); pc++; break;
        case WSE_OP_SUBF: WR(di->r1, canon_s(bf(R(di->r2)) - bf(R(di->r3)))); pc++; break;
        case WSE_OP_MULF: WR(di->r1, canon_s(bf(R(di->r2)) * bf(R(di->r3)))); pc++; break;
        case WSE_OP_MAXF: WR(di->r1, canon_s(fmax_ieee(bf(R(di->r2)), bf(R(di->r3))))); pc++; break;
        case WSE_OP_MINF: WR(di->r1, canon_s(fmin_ieee(bf(R(di->r2)), bf(R(di->r3))))); pc++; break;
        case WSE_OP_NEGF: WR(di->r1, R(di->r2) ^ 0x80000000u); pc++; break;
        case WSE_OP_ABSF: WR(di->r1, R(di->r2) & 0x7fffffffu); pc++; break;
        case WSE_OP_FEQ: WR(di->r1, bf(R(di->r2)) == bf(R(di->r3))); pc++; break;
        case WSE_OP_FLT: WR(di->r1, bf(R(di->r2)) < bf(R(di->r3))); pc++; break;
        case WSE_OP_FLE: WR(di->r1, bf(R(di->r2)) <= bf(R(di->r3))); pc++; break;
        case WSE_OP_I2F: WR(di->r1, fb((float)(int32_t)R(di->r2))); pc++; break;
        case WSE_OP_F2I: {
            float x = bf(R(di->r2));
            int32_t v;
            if (x != x) v = 0;
            else if (x >= 2147483648.0f) v = INT32_MAX;
            else if (x <= -2147483648.0f) v = INT32_MIN;
            else v = (int32_t)x;
            WR(di->r1, (uint32_t)v); pc++; break;
        }
        case WSE_OP_H2F: WR(di->r1, canon_s(hf(R(di->r2)))); pc++; break;
        case WSE_OP_F2H: WR(di->r1, f32_to_f16_bits(R(di->r2))); pc++; break;
        case WSE_OP_MACF: { float pr = bf(R(di->r2)) * bf(R(di->r3)); WR(di->r1, canon_s(bf(R(di->r1)) + pr)); pc++; break; }
        case WSE_OP_LDSD:
            if ((uint32_t)di->imm >= img->n_dsd) {
                p->pc = pc;
                fault(f, p, WSE_FK_DSD_INDEX, (int)pc, t0 + own, "DSD index %d is outside the image's table (%u entries)", di->imm, img->n_dsd);
                return;
            }
            p->dsr[di->r1] = img->dsd[di->imm];
            p->dsr_src[di->r1] = (dsr_src_t){ (uint32_t)di->imm + 1, pc, 0, 0, 0 };
            pc++; break;
        /* (what changed a DSR since its ldsd: the reports say so) */
#define DSR_CHANGED(bit) do { dsr_src_t *s_ = &p->dsr_src[di->r1]; s_->chg |= (bit); s_->chg_op = op; s_->chg_pc = pc; } while (0)
        case WSE_OP_DSDBASE: p->dsr[di->r1].base = R(di->r2); DSR_CHANGED(1); pc++; break;
        case WSE_OP_DSDADD: p->dsr[di->r1].base += R(di->r2); DSR_CHANGED(1); pc++; break;
        case WSE_OP_DSDADDI: p->dsr[di->r1].base += (uint32_t)di->imm; DSR_CHANGED(1); pc++; break;
        case WSE_OP_DSDLEN: p->dsr[di->r1].len[0] = R(di->r2); DSR_CHANGED(2); pc++; break;
#undef DSR_CHANGED
        /* sync instructions: they stop a run when the cost so far is non-zero */
        case WSE_OP_EXIT: case WSE_OP_TRAP: case WSE_OP_ACTIVATE: case WSE_OP_BLOCK: case WSE_OP_UNBLOCK:
        case WSE_OP_SEND: case WSE_OP_SENDC:
            if (cost) goto stop;
            {
                uint64_t t = t0;
                if (op == WSE_OP_EXIT) {
                    hist_add(p, pc, t);
                    count++; p->run_n = count; p->pc = pc;
                    f->happened = 1;
                    end_task(f, p, t);
                    return;
                }
                if (op == WSE_OP_TRAP) {
                    p->pc = pc;
                    fault(f, p, WSE_FK_TRAP, (int)pc, t, "trap %d (0x%x)", di->imm, di->imm);
                    f->fault.code = (unsigned)di->imm;
                    return;
                }
                if (op == WSE_OP_ACTIVATE || op == WSE_OP_BLOCK || op == WSE_OP_UNBLOCK) {
                    uint32_t tid = (uint32_t)di->imm;
                    if (op == WSE_OP_ACTIVATE && !img->tasks[tid].defined) {
                        p->pc = pc;
                        fault(f, p, WSE_FK_TASK, (int)pc, t, "task %u is not defined", tid);
                        return;
                    }
                    if (op == WSE_OP_ACTIVATE) p->activated |= 1ull << tid;
                    else if (op == WSE_OP_BLOCK) p->blocked |= 1ull << tid;
                    else p->blocked &= ~(1ull << tid);
                    pc++; break;
                }
                /* send / sendc */
                int ok;
                if (send_try(f, p, di->r1, R(di->r2), op == WSE_OP_SENDC, pc, t, &ok)) { p->pc = pc; return; }
                if (!ok) {
                    p->pc = pc; p->run_n = count;
                    p->mstate = M_SEND;
                    return;    /* woken when the oq pops */
                }
                pc++; break;
            }
        default: {
            /* tensor ops */
            const insn_desc_t *in = wse__insn_by_op(op);
            if (!in || op < 0x80) {
                p->pc = pc;
                fault(f, p, WSE_FK_ILLEGAL, (int)pc, t0 + cost, "illegal instruction");
                return;
            }
            if (di->act) {
                if (cost) goto stop;
            }
            /* does it have a fabric operand? */
            int fab = is_fab(&p->dsr[di->r1]);
            if (in->form == WSE_FORM_VV || in->form == WSE_FORM_VS || in->form == WSE_FORM_V || in->form == WSE_FORM_VVS)
                fab |= is_fab(&p->dsr[8 + di->r2]);
            if (in->form == WSE_FORM_VV || in->form == WSE_FORM_VVS)
                fab |= is_fab(&p->dsr[16 + di->r3]);
            if (fab && cost) goto stop;
            p->pc = pc;
            int64_t c = tensor_issue(f, p, di, pc, t0 + cost);
            if (c < 0) return;
            if (c == 0) {
                /* synchronous fabric op at t0: holds the main thread */
                hist_add(p, pc, t0);
                count++; p->run_n = count;
                f->happened = 1;
                p->mstate = M_FABOP;
                mop_step(f, p, t0);
                if (!f->faulted) p->pc = pc;
                return;
            }
            if (c > 1) run_extra(p, count, (uint32_t)(c - 1));
            cost += (uint64_t)c;
            pc++;
            break;
        }
        }
        hist_add(p, ipc, t0 + own);
        count++;
        cost++;
        if (op >= 0x80) cost--;    /* a tensor op's cost was added above */
        f->happened = 1;
        if (count >= RUN_MAX) break;
    }
stop:
    p->pc = pc;
    p->run_n = count;
    p->mstate = M_RUN;
    p->next_t = t0 + cost;
    sched(f, p, t0 + cost);
}

static void start_run(wse_fabric_t *f, pe_t *p, uint64_t t) {
    commit_run(p);
    p->run_t0 = t;
    ce_run(f, p, t, 0);
    f->work += p->run_n;
}

static void ce_event(wse_fabric_t *f, pe_t *p, uint64_t t) {
    if (p->visit_t == t) return;
    p->visit_t = t;
    if (p->ut_mask)
        for (int u = 0; u < NUT; u++) {
            if (p->ut_mask >> u & 1) ut_step(f, p, u, t);
            if (f->faulted) return;
        }
    switch (p->mstate) {
    case M_IDLE: {
        if (t < p->next_t) return;
        int tid;
        if (!task_runnable(p, t, &tid)) {
            /* a data task's wavelet that is not ready yet: come back when it is */
            uint64_t dm = p->img->data_mask & ~p->blocked, best = NEVER;
            while (dm) {
                int d = __builtin_ctzll(dm);
                dm &= dm - 1;
                col_t *cs = col_of(p, p->img->tasks[d].color);
                if (cs && cs->iq.n && q_head(&cs->iq)->ready < best) best = q_head(&cs->iq)->ready;
            }
            if (best != NEVER && best > t) sched(f, p, best);
            return;
        }
        const task_t *tk = &p->img->tasks[tid];
        if (tk->kind == WSE_TASK_DATA) {
            col_t *cs = col_of(p, tk->color);
            p->regs[1] = q_head(&cs->iq)->payload;
            q_pop(&cs->iq);
            f->buffered--;
            wake(f, p, cs->color);
        }
        p->activated &= ~(1ull << tid);
        p->task = tid;
        p->pc = tk->entry;
        p->task_start = t;
        p->st_tasks++;
        p->mstate = M_RUN;
        p->next_t = t + f->P.task_switch;
        sched(f, p, p->next_t);
        f->happened = 1;
        return;
    }
    case M_RUN:
        if (t < p->next_t) return;
        start_run(f, p, t);
        return;
    case M_SEND: {
        const dinsn_t *di = &p->img->dec[p->pc];
        int ok;
        if (send_try(f, p, di->r1, p->regs[di->r2], di->op == WSE_OP_SENDC, p->pc, t, &ok)) return;
        if (!ok) return;
        hist_add(p, p->pc, t);
        commit_run(p);
        p->run_t0 = t;
        p->run_n = 1;
        p->pc++;
        ce_run(f, p, t, 1);
        f->work += p->run_n;
        return;
    }
    case M_FABOP:
        if (mop_step(f, p, t) && !f->faulted) start_run(f, p, t);
        return;
    default: return;
    }
}

static void phase2(wse_fabric_t *f, uint64_t t) {
    uint32_t k = (uint32_t)(t & (CAL - 1));
    while (f->heap.n && (f->heap.v[0] >> 24) == t) { cal_add(f, k, (uint32_t)(heap_pop(&f->heap) & 0xffffffu)); f->cal_t[k] = t; }
    f->work += f->cal_n[k];
    /* the bucket's PEs in ascending index order, straight from the bitmap, each word emptied
       before its PEs are visited. A visit schedules only its own PE, for a later cycle; one
       scheduled for t (in a word already emptied) would be visited in a further round. */
    uint64_t *bm = f->cal_bm + (size_t)k * f->cal_nw, *sum = f->cal_sum + (size_t)k * f->cal_ns;
    while (f->cal_n[k]) {
        for (uint32_t j = 0; j < f->cal_ns; j++) {
            uint64_t sw = sum[j];
            if (!sw) continue;
            sum[j] = 0;
            while (sw) {
                uint32_t wi = j * 64 + (uint32_t)__builtin_ctzll(sw);
                sw &= sw - 1;
                uint64_t w = bm[wi];
                bm[wi] = 0;
                /* prefetch, for the PEs of this word, the hot lines of pe_t (see there), then the
                   iq header and slots of a fabric op's fabin source */
                for (uint64_t x = w; x; x &= x - 1) {
                    const char *q = (const char *)f->pes[(size_t)wi * 64 + (size_t)__builtin_ctzll(x)];
                    for (int l = 0; l < 4; l++) __builtin_prefetch(q + l * CACHE_LINE);
                }
                for (uint64_t x = w; x; x &= x - 1) {
                    const pe_t *q = f->pes[(size_t)wi * 64 + (size_t)__builtin_ctzll(x)];
                    if (q->mstate != M_FABOP || q->mop.sa < 0) continue;
                    const col_t *cs = &q->cols[q->mop.sa];
                    __builtin_prefetch(&cs->iq); __builtin_prefetch(cs->slots[2]); __builtin_prefetch(&cs->slots[2][4]);
                }
                while (w) {
                    pe_t *p = f->pes[(size_t)wi * 64 + (size_t)__builtin_ctzll(w)];
                    w &= w - 1;
                    f->cal_n[k]--;
                    ce_event(f, p, t);
                    if (f->faulted) {
                        /* empty the bucket: what this summary word still holds, then the rest */
                        for (; sw; sw &= sw - 1) bm[j * 64 + (uint32_t)__builtin_ctzll(sw)] = 0;
                        cal_clear(f, k);
                        return;
                    }
                }
            }
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* run loop, hang report                                                                      */

/* append " (a1 loaded from DSD ...)" for operand k (0 d, 1 a, 2 b) of op, as its DSR was at
   issue; nothing when no ldsd loaded it */
static void op_origin_app(const wse_fabric_t *f, text_t *b, const pe_t *p, const op_t *op, int k) {
    /* (the op's DSR numbers are those of its instruction, at its issue pc) */
    const dinsn_t *di = op->pc < p->img->n_code ? &p->img->dec[op->pc] : NULL;
    unsigned idx = !di ? 0 : k == 0 ? di->r1 : k == 1 ? di->r2 : di->r3;
    char pre[8];
    snprintf(pre, sizeof pre, "%c%u ", "dab"[k], idx);
    origin_paren_app(f, b, p, &op->src[k], pre);
}

/* the parts of what a fabric op waits on, each after sep: its fabric sources' colors (a, then
   b), and the color it writes, each with the DSD its DSR was loaded from (as the reference's
   op_waits) */
static void op_waits_app(wse_fabric_t *f, const pe_t *p, const op_t *op, const char *sep) {
    if (op->a.kind == WSE_DSD_FABIN) {
        rep_app(f, "%swaits for wavelets on color %d", sep, op->a.color);
        op_origin_app(f, &f->rep, p, op, 1);
    }
    if (op->b.kind == WSE_DSD_FABIN) {
        rep_app(f, "%swaits for wavelets on color %d", sep, op->b.color);
        op_origin_app(f, &f->rep, p, op, 2);
    }
    if (op->d.kind == WSE_DSD_FABOUT) {
        rep_app(f, "%swrites color %d", sep, op->d.color);
        op_origin_app(f, &f->rep, p, op, 0);
    }
}

/* the state of every PE that is doing or waiting for something (at most 64), after a first
   line: the hang's, or with head the caller's */
static void state_report(wse_fabric_t *f, const char *head, int hang) {
    rep_start(f);
#define APP(...) rep_app(f, __VA_ARGS__)
    if (head) APP("%s\n", head);
    else APP("hang at cycle %llu: nothing can happen any more, but the fabric is not idle\n", (unsigned long long)f->t);
    int shown = 0, more = 0;
    for (size_t i = 0; i < (size_t)f->W * f->H; i++) {
        pe_t *p = f->pes[i];
        if (!p) continue;
        uint64_t act = p->activated;
        int interesting = p->task >= 0 || act || p->ut_mask;
        for (uint32_t c = 0; c < p->ncols && !interesting; c++)
            if (p->cols[c].rb.n || p->cols[c].oq.n || p->cols[c].iq.n) interesting = 1;
        if (!interesting) continue;
        if (shown >= 64) { more++; continue; }
        shown++;
        APP("PE (%u,%u):\n", p->x, p->y);
        if (p->task >= 0) {
            const char *tn = task_name(p->img, p->task);
            APP("  running task %d%s%s%s at pc %u: ", p->task, *tn ? " (" : "", tn, *tn ? ")" : "", p->pc);
            if (p->pc < p->img->n_code) disasm_app(&f->rep, p->img, p->img->dec[p->pc].word);
            const line_t *ln = p->pc < p->img->n_code ? line_for(p->img, p->pc) : NULL;
            if (ln && ln->file && ln->line) where_app(f, &f->rep, ln, "  (", NULL, ")");
            APP("\n");
            /* the registers that are not 0 (a loop counter, an address) */
            regs_app(&f->rep, p, "    registers:");
            /* a send at pc whose color's output queue is full waits for room: said from the
               queue, as the reference does (at a watchdog the CE may not have tried it yet) */
            const dinsn_t *di = p->pc < p->img->n_code ? &p->img->dec[p->pc] : NULL;
            col_t *sc = di && (di->op == WSE_OP_SEND || di->op == WSE_OP_SENDC) ? col_of(p, di->r1) : NULL;
            if (p->mstate == M_FABOP) {
                APP("    fabric op: %u of %u elements done", p->mop.done, p->mop.n);
                op_waits_app(f, p, &p->mop, "; ");
                APP("\n");
            } else if (sc && (sc->rx[sc->pos] & PR) && sc->oq.n >= sc->oq.cap) {
                APP("    waits for room in the output queue of color %u (full)\n", di->r1);
            }
        }
        for (int u = 0; u < NUT; u++) {
            if (!(p->ut_mask >> u & 1)) continue;
            op_t *op = &p->ut[u];
            /* the op's instruction, its issue (task and pc, where it comes from), its progress */
            APP("  ut%d: ", u);
            const line_t *ln = NULL;
            if (op->pc < p->img->n_code) {
                disasm_app(&f->rep, p->img, p->img->dec[op->pc].word);
                ln = line_for(p->img, op->pc);
            } else APP("(outside the code)");
            APP(" (");
            if (op->issuer >= 0) {
                const char *tn = task_name(p->img, op->issuer);
                APP("issued by task %d%s%s%s at ", op->issuer, *tn ? " (" : "", tn, *tn ? ")" : "");
            }
            APP("pc %u", op->pc);
            if (ln && ln->file && ln->line) where_app(f, &f->rep, ln, ", ", NULL, "");
            APP("), %u of %u elements done", op->done, op->n);
            op_waits_app(f, p, op, ", ");
            if (op->done >= op->n) APP(", finishes at cycle %llu", (unsigned long long)op->finish_t);
            APP("\n");
        }
        uint64_t ab = act & p->blocked;
        if (ab) {
            APP("  activated but blocked tasks:");
            for (int tid = 0; tid < NTASKS; tid++) if (ab >> tid & 1) { const char *tn = task_name(p->img, tid); APP(" %d%s%s%s", tid, *tn ? "(" : "", tn, *tn ? ")" : ""); }
            APP("\n");
        }
        /* a data task runs only for wavelets: its activated bit alone never makes it
           runnable, and any activated bit left set keeps the fabric from being idle */
        uint64_t ad = act & ~p->blocked & p->img->data_mask;
        if (ad) {
            APP("  activated data tasks (they run only when a wavelet arrives on their color):");
            for (int tid = 0; tid < NTASKS; tid++) if (ad >> tid & 1) { const char *tn = task_name(p->img, tid); APP(" %d%s%s%s", tid, *tn ? "(" : "", tn, *tn ? ")" : ""); }
            APP("\n");
        }
        /* activated and not blocked: they run when the CE is free (a task still running) */
        uint64_t aw = act & ~p->blocked & ~p->img->data_mask;
        if (aw) {
            APP("  activated tasks, waiting for the CE:");
            for (int tid = 0; tid < NTASKS; tid++) if (aw >> tid & 1) { const char *tn = task_name(p->img, tid); APP(" %d%s%s%s", tid, *tn ? "(" : "", tn, *tn ? ")" : ""); }
            APP("\n");
        }
        uint64_t bl = p->blocked & ~ab & (p->img->local_mask | p->img->data_mask);
        if (bl) {
            APP("  blocked tasks:");
            for (int tid = 0; tid < NTASKS; tid++) if (bl >> tid & 1) { const char *tn = task_name(p->img, tid); APP(" %d%s%s%s", tid, *tn ? "(" : "", tn, *tn ? ")" : ""); }
            APP("\n");
        }
        /* the colors that a pending op reads (an op about to take a wavelet at a watchdog) */
        uint32_t reads = 0;
        for (int u = -1; u < NUT; u++) {
            const op_t *op = u < 0 ? (p->mstate == M_FABOP ? &p->mop : NULL) : (p->ut_mask >> u & 1 ? &p->ut[u] : NULL);
            if (!op) continue;
            if (op->a.kind == WSE_DSD_FABIN) reads |= 1u << op->a.color;
            if (op->b.kind == WSE_DSD_FABIN) reads |= 1u << op->b.color;
        }
        for (uint32_t c = 0; c < NCOLORS; c++) {          /* (by color, as the reference) */
            col_t *cs = col_of(p, c);
            if (!cs || !(cs->rb.n || cs->oq.n || cs->iq.n)) continue;
            char txs[64];
            ports_str(cs->tx[cs->pos], txs, sizeof txs);
            APP("  color %u: router buffer %u, output queue %u, input queue %u wavelet(s); route position %u tx %s",
                cs->color, cs->rb.n, cs->oq.n, cs->iq.n, cs->pos, txs);
            if (cs->iq.n) {
                int dt = p->img->data_task_of_color[cs->color];
                if (dt >= 0 && (p->blocked >> dt & 1)) {
                    const char *tn = task_name(p->img, dt);
                    APP("; its data task %d%s%s%s is blocked", dt, *tn ? "(" : "", tn, *tn ? ")" : "");
                }
                /* between two tasks (a stop by --until or the watchdog can land there) */
                else if (dt >= 0 && p->task < 0) {
                    const char *tn = task_name(p->img, dt);
                    APP("; the CE is between tasks: its data task %d%s%s%s is to run for it", dt, *tn ? "(" : "", tn, *tn ? ")" : "");
                }
                /* (a task still running may read it later: said only at a hang, or of an idle CE) */
                else if (dt < 0 && !(reads >> cs->color & 1) && (hang || p->task < 0)) {
                    APP("; no data task or op reads it");
                    /* the data tasks this PE has, on other colors: the usual slip is a wrong color */
                    int nd = 0;
                    for (int tid = 0; tid < NTASKS; tid++) {
                        if (!(p->img->data_mask >> tid & 1)) continue;
                        const char *tn = task_name(p->img, tid);
                        if (nd < 4) APP("%s %d%s%s%s on color %u", nd ? "," : " (its data tasks:", tid, *tn ? "(" : "",
                                        tn, *tn ? ")" : "", p->img->tasks[tid].color);
                        nd++;
                    }
                    if (nd > 4) APP(", and %d more", nd - 4);
                    if (nd) APP(")");
                }
            }
            if (cs->rb.n || cs->oq.n) {
                /* who is full downstream? */
                static const int DX[4] = { 0, 1, 0, -1 }, DY[4] = { -1, 0, 1, 0 };
                uint32_t tx = cs->tx[cs->pos];
                for (int pi = 0; pi < 4; pi++) {
                    if (!(tx & (1u << pi))) continue;
                    pe_t *q = pe_at(f, (int64_t)p->x + DX[pi], (int64_t)p->y + DY[pi]);
                    col_t *qc = q ? col_of(q, cs->color) : NULL;
                    if (qc && qc->rb.n >= qc->rb.cap) APP("; next PE (%u,%u) buffer full", q->x, q->y);
                }
                if ((tx & PR) && cs->iq.n >= cs->iq.cap) APP("; own input queue full");
            }
            APP("\n");
        }
        for (int pi = 0; pi < 4; pi++)
            if (p->hq_n[pi]) APP("  host: %u wavelet(s) waiting to enter through %s\n", p->hq_n[pi], port_name(1 << pi));
    }
    if (more) APP("... and %d more PEs\n", more);
#undef APP
}

static int fabric_idle(wse_fabric_t *f, int *blocked_only) {
    *blocked_only = 0;
    if (f->buffered || f->host_pending) return 0;
    for (size_t i = 0; i < (size_t)f->W * f->H; i++) {
        pe_t *p = f->pes[i];
        if (!p) continue;
        if (p->task >= 0 || p->ut_mask || p->mstate != M_IDLE) return 0;
        if (p->activated) { *blocked_only = 1; return 0; }
    }
    return 1;
}

/* the latest ready cycle of any buffered wavelet (0 if none) */
static uint64_t max_ready(wse_fabric_t *f) {
    uint64_t m = 0;
    for (size_t i = 0; i < (size_t)f->W * f->H; i++) {
        pe_t *p = f->pes[i];
        if (!p) continue;
        for (uint32_t c = 0; c < p->ncols; c++) {
            q_t *qs[3] = { &p->cols[c].rb, &p->cols[c].oq, &p->cols[c].iq };
            for (int k = 0; k < 3; k++)
                for (int j = 0; j < qs[k]->n; j++) {
                    uint64_t r = qs[k]->w[(qs[k]->head + j) & (QCAP - 1)].ready;
                    if (r > m) m = r;
                }
        }
    }
    return m;
}

/* ---- who waits on whom (hang reports) --------------------------------------------------------
   Each CE thread stuck on the fabric (a fabric op whose fabin color has no wavelet, one whose
   fabout color's output queue is full, a send waiting for room) waits on other PEs' CEs: the
   ones whose sends reach its RAMP along the routes of that color (followed upstream from its
   route through pass-through PEs), or the ones whose RAMP its wavelets reach (downstream). A
   hang report lists these waits and the first cycle among the PEs that wait, which is what a
   deadlock is. wait_analyse keeps them as records (wse_waits gives them to the caller) and
   wait_print prints the report's section from those records alone. emu/reference.py
   (wait_records) builds the same records, and wse.emu.errors.format_waits the same lines. */
#define WAIT_MAX WSE_WAIT_MAX         /* waits analysed */
#define WAIT_TGT WSE_WAIT_TARGETS     /* targets kept per wait */
#define WAIT_SHOW 16                  /* wait lines printed */
typedef struct { uint32_t pe; int8_t ut; uint8_t kind, color; uint32_t t0, nt, d0, nd, nmore; } wait_t;   /* nmore: targets beyond WAIT_TGT */
/* (kind: enum wse_wait_kind) */   /* kind: enum wse_wait_kind */
typedef struct { uint8_t why; uint32_t pe; } dead_t;  /* why: enum wse_dead_end */

typedef struct {
    wse_fabric_t *f;
    uint32_t *stamp, gen, *queue;
    wait_t *w; uint32_t nw;
    uint32_t *tgt; uint32_t ntgt, cap_tgt;
    dead_t *dead; uint32_t ndead, cap_dead;
} waits_t;

static int u32_cmp(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}
static int dead_cmp(const void *a, const void *b) {
    const dead_t *x = a, *y = b;
    if (x->pe != y->pe) return x->pe < y->pe ? -1 : 1;
    return (x->why > y->why) - (x->why < y->why);
}

static int wt_push_tgt(waits_t *W, uint32_t pe) {
    if (W->ntgt == W->cap_tgt) {
        uint32_t cap = W->cap_tgt ? 2 * W->cap_tgt : 256;
        uint32_t *n = realloc(W->tgt, cap * sizeof *n);
        if (!n) return -1;
        W->tgt = n; W->cap_tgt = cap;
    }
    W->tgt[W->ntgt++] = pe;
    return 0;
}
static int wt_push_dead(waits_t *W, uint8_t why, uint32_t pe) {
    if (W->ndead == W->cap_dead) {
        uint32_t cap = W->cap_dead ? 2 * W->cap_dead : 64;
        dead_t *n = realloc(W->dead, cap * sizeof *n);
        if (!n) return -1;
        W->dead = n; W->cap_dead = cap;
    }
    W->dead[W->ndead].why = why; W->dead[W->ndead].pe = pe; W->ndead++;
    return 0;
}

/* the CEs at the other end of color c from PE p: upstream (send = 0: whose RAMP feeds the route
   toward p) or downstream (send = 1: whose RAMP the route delivers to). Appends to W->tgt (sorted,
   unique) and, upstream with no producer, the dead ends to W->dead. */
static int wt_walk(waits_t *W, wait_t *w) {
    static const int DX[4] = { 0, 1, 0, -1 }, DY[4] = { -1, 0, 1, 0 };
    wse_fabric_t *f = W->f;
    pe_t *p = f->pes[w->pe];
    uint32_t gen = ++W->gen, qh = 0, qn = 0, d0 = W->ndead;
    int send = w->kind != WSE_WAIT_FABIN;
    w->t0 = W->ntgt; w->nt = 0; w->d0 = W->ndead; w->nd = 0; w->nmore = 0;
    if (!col_of(p, w->color)) {
        if (!send && wt_push_dead(W, 3, w->pe)) return -1;
        w->nd = W->ndead - d0;
        return 0;
    }
    if (!send && !(col_of(p, w->color)->tx[col_of(p, w->color)->pos] & PR)) {
        if (wt_push_dead(W, 4, w->pe)) return -1;      /* nothing reaches its CE */
        w->nd = W->ndead - d0;
        return 0;
    }
    W->stamp[w->pe] = gen;
    W->queue[qn++] = w->pe;
    while (qh < qn) {
        uint32_t qi = W->queue[qh++];
        pe_t *q = f->pes[qi];
        col_t *cs = col_of(q, w->color);
        /* the far side of the route: where wavelets come from (upstream) or go (downstream); a
           RAMP there is a CE at the other end (p itself when it sends to its own RAMP) */
        uint32_t ports = send ? cs->tx[cs->pos] : cs->rx[cs->pos];
        if ((ports & PR) && w->nt < WAIT_TGT) { if (wt_push_tgt(W, qi)) return -1; w->nt++; }
        else if (ports & PR) w->nmore++;              /* (each PE is visited once) */
        for (int pi = 0; pi < 4; pi++) {
            if (!(ports & (1u << pi))) continue;
            int64_t nx = (int64_t)q->x + DX[pi], ny = (int64_t)q->y + DY[pi];
            if (q->nb_edge[pi]) { if (!send && wt_push_dead(W, 0, qi)) return -1; continue; }
            pe_t *n = pe_at(f, nx, ny);
            if (!n) { if (!send && wt_push_dead(W, 1, (uint32_t)(ny * f->W + nx))) return -1; continue; }
            col_t *ns = col_of(n, w->color);
            uint32_t back = 1u << ((pi + 2) & 3);
            /* upstream: n must send toward q; downstream: n must take from q */
            if (!ns || !((send ? ns->rx[ns->pos] : ns->tx[ns->pos]) & back)) {
                if (!send && wt_push_dead(W, 2, n->idx)) return -1;
                continue;
            }
            if (W->stamp[n->idx] == gen) continue;
            W->stamp[n->idx] = gen;
            W->queue[qn++] = n->idx;
        }
    }
    if (w->nt > 1) qsort(W->tgt + w->t0, w->nt, sizeof *W->tgt, u32_cmp);   /* (tgt may be NULL when empty) */
    uint32_t u = 0;
    for (uint32_t i = 0; i < w->nt; i++)
        if (!u || W->tgt[w->t0 + u - 1] != W->tgt[w->t0 + i]) W->tgt[w->t0 + u++] = W->tgt[w->t0 + i];
    W->ntgt = w->t0 + u; w->nt = u;
    if (W->ndead - d0 > 1) qsort(W->dead + d0, W->ndead - d0, sizeof *W->dead, dead_cmp);
    u = 0;
    for (uint32_t i = d0; i < W->ndead; i++)
        if (u == 0 || W->dead[d0 + u - 1].pe != W->dead[i].pe || W->dead[d0 + u - 1].why != W->dead[i].why)
            W->dead[d0 + u++] = W->dead[i];
    W->ndead = d0 + u; w->nd = u;
    /* dead ends only for a wait that no CE can feed: a route that also takes the color from
       the edge or from a PE that does not send it is no dead end when a CE does feed it */
    if (w->nt) { W->ndead = d0; w->nd = 0; }
    return 0;
}

static int wt_add(waits_t *W, uint32_t pe, int ut, int kind, uint32_t color) {
    for (uint32_t i = W->nw; i-- > 0 && W->w[i].pe == pe;)     /* one wait per (thread, kind, color) */
        if (W->w[i].ut == ut && W->w[i].kind == kind && W->w[i].color == color) return 0;
    if (W->nw >= WAIT_MAX) return 1;
    wait_t *w = &W->w[W->nw++];
    w->pe = pe; w->ut = (int8_t)ut; w->kind = (uint8_t)kind; w->color = (uint8_t)color;
    return wt_walk(W, w) ? -1 : 0;
}

/* the waits of an op (the main thread's fabric op, ut = -1, or microthread ut's) */
static int wt_op(waits_t *W, pe_t *p, const op_t *op, int ut) {
    const dsr_t *src[2] = { &op->a, &op->b };
    for (int s = 0; s < 2; s++) {
        if (src[s]->kind != WSE_DSD_FABIN) continue;
        col_t *cs = col_of(p, src[s]->color);
        if (!cs || !cs->iq.n) { int r = wt_add(W, p->idx, ut, WSE_WAIT_FABIN, src[s]->color); if (r) return r; }
    }
    if (op->d.kind == WSE_DSD_FABOUT) {
        col_t *cs = col_of(p, op->d.color);
        if (!cs || cs->oq.n >= cs->oq.cap) { int r = wt_add(W, p->idx, ut, WSE_WAIT_FABOUT, op->d.color); if (r) return r; }
    }
    return 0;
}

static int at_rest(const pe_t *q) { return q->task < 0 && !q->ut_mask && !q->activated && q->mstate == M_IDLE; }

static void waits_clear(wse_fabric_t *f) {
    free(f->hw); free(f->he); free(f->hc);
    f->hw = NULL; f->he = NULL; f->hc = NULL;
    f->hw_n = f->he_n = f->hc_n = 0;
    f->hw_hang = f->hw_status = f->hw_trunc = 0;
}

/* the waits at a hang into f->hw / he / hc (wse_waits): every CE thread stuck on the fabric,
   then the first cycle among the PEs that wait */
static void wait_analyse(wse_fabric_t *f) {
    waits_clear(f);
    f->hw_hang = 1;
    size_t npe = (size_t)f->W * f->H;
    waits_t W = { f, calloc(npe, sizeof(uint32_t)), 0, malloc(npe * sizeof(uint32_t)),
                  malloc(WAIT_MAX * sizeof(wait_t)), 0, NULL, 0, 0, NULL, 0, 0 };
    uint32_t *node_of = NULL, *order = NULL, *path = NULL, *pos = NULL, *adj0 = NULL, *adj = NULL, *wfirst = NULL;
    uint8_t *mark = NULL;
    int more = 0, oom = !W.stamp || !W.queue || !W.w;
    for (size_t i = 0; i < npe && !oom && !more; i++) {
        pe_t *p = f->pes[i];
        if (!p) continue;
        int r = 0;
        if (p->task >= 0 && p->mstate == M_SEND) r = wt_add(&W, p->idx, -1, WSE_WAIT_SEND, p->img->dec[p->pc].r1);
        else if (p->task >= 0 && p->mstate == M_FABOP) r = wt_op(&W, p, &p->mop, -1);
        for (int u = 0; u < NUT && !r; u++)
            if (p->ut_mask >> u & 1) r = wt_op(&W, p, &p->ut[u], u);
        if (r < 0) oom = 1; else if (r > 0) more = 1;
    }
    if (oom) { f->hw_status = 1; goto done; }
    if (!W.nw) goto done;
    /* the records: one per wait, their targets and dead ends in one array of ends */
    f->hw = calloc(W.nw, sizeof *f->hw);
    f->he = malloc(((size_t)W.ntgt + W.ndead + 1) * sizeof *f->he);
    if (!f->hw || !f->he) { waits_clear(f); f->hw_hang = 1; f->hw_status = 1; goto done; }
    uint32_t ne = 0;
    for (uint32_t i = 0; i < W.nw; i++) {
        const wait_t *w = &W.w[i];
        const pe_t *p = f->pes[w->pe];
        wse_wait *r = &f->hw[i];
        r->x = p->x; r->y = p->y; r->microthread = w->ut; r->kind = w->kind; r->color = w->color;
        if (w->ut >= 0) { r->task = p->ut[w->ut].issuer; r->pc = (int)p->ut[w->ut].pc; }
        else { r->task = p->task; r->pc = (int)p->pc; }
        if (r->task >= 0) wse__copy_cut(r->task_name, sizeof r->task_name, task_name(p->img, r->task));
        r->first_target = ne; r->n_targets = w->nt; r->n_targets_more = w->nmore;
        for (uint32_t j = 0; j < w->nt; j++) {
            const pe_t *q = f->pes[W.tgt[w->t0 + j]];
            f->he[ne].x = q->x; f->he[ne].y = q->y; f->he[ne].what = at_rest(q); ne++;
        }
        r->first_dead = ne; r->n_dead = w->nd;
        for (uint32_t j = 0; j < w->nd; j++) {
            const dead_t *d = &W.dead[w->d0 + j];
            f->he[ne].x = (unsigned)(d->pe % f->W); f->he[ne].y = (unsigned)(d->pe / f->W); f->he[ne].what = d->why; ne++;
        }
    }
    f->hw_n = W.nw; f->he_n = ne; f->hw_trunc = more;
    /* the first cycle: depth-first from each PE that waits, in index order, over the sorted
       targets that wait themselves */
    node_of = calloc(npe, sizeof *node_of);          /* PE -> node + 1 (0: not a node) */
    order = malloc(W.nw * sizeof *order);            /* node -> PE */
    adj0 = calloc((size_t)W.nw + 1, sizeof *adj0);
    adj = malloc(((size_t)W.ntgt + 1) * sizeof *adj);
    path = malloc(W.nw * sizeof *path);
    pos = malloc(W.nw * sizeof *pos);
    mark = calloc(W.nw, 1);
    wfirst = malloc(((size_t)W.nw + 1) * sizeof *wfirst);   /* node -> its first wait (they are in PE order) */
    if (!node_of || !order || !adj0 || !adj || !path || !pos || !mark || !wfirst) { f->hw_status = 2; goto done; }
    uint32_t nn = 0;
    for (uint32_t i = 0; i < W.nw; i++)
        if (!i || W.w[i].pe != W.w[i - 1].pe) { order[nn] = W.w[i].pe; wfirst[nn] = i; node_of[W.w[i].pe] = ++nn; }
    wfirst[nn] = W.nw;
    /* adjacency per node: the sorted unique targets of its waits that wait themselves */
    uint32_t na = 0, wi = 0;
    for (uint32_t v = 0; v < nn; v++) {
        uint32_t s = na;
        adj0[v] = s;
        for (; wi < W.nw && W.w[wi].pe == order[v]; wi++)
            for (uint32_t j = 0; j < W.w[wi].nt; j++) {
                uint32_t t = W.tgt[W.w[wi].t0 + j];
                if (node_of[t]) adj[na++] = node_of[t] - 1;
            }
        if (na - s > 1) qsort(adj + s, na - s, sizeof *adj, u32_cmp);
        uint32_t u = s;
        for (uint32_t j = s; j < na; j++) if (u == s || adj[u - 1] != adj[j]) adj[u++] = adj[j];
        na = u;
    }
    adj0[nn] = na;
    /* mark: 0 not seen, 1 on the path, 2 done */
    int found = 0;
    for (uint32_t s = 0; s < nn && !found; s++) {
        if (mark[s]) continue;
        uint32_t depth = 0;
        path[depth] = s; pos[depth] = adj0[s]; depth++; mark[s] = 1;
        while (depth && !found) {
            uint32_t v = path[depth - 1];
            if (pos[depth - 1] == adj0[v + 1]) { mark[v] = 2; depth--; continue; }
            uint32_t t = adj[pos[depth - 1]++];
            if (mark[t] == 1) {
                uint32_t from = 0;
                while (path[from] != t) from++;
                uint32_t len = depth - from;
                f->hc = malloc(len * sizeof *f->hc);
                if (!f->hc) { f->hw_status = 2; goto done; }
                for (uint32_t j = 0; j < len; j++) {
                    uint32_t cv = path[from + j], pe = order[cv], next = order[path[from + (j + 1) % len]];
                    f->hc[j].x = f->pes[pe]->x; f->hc[j].y = f->pes[pe]->y; f->hc[j].what = -1;
                    /* the waits of this PE whose targets hold the next one are the cycle's edges */
                    for (uint32_t i = wfirst[cv]; i < wfirst[cv + 1]; i++) {
                        for (uint32_t q = 0; q < W.w[i].nt; q++)
                            if (W.tgt[W.w[i].t0 + q] == next) {
                                f->hw[i].deadlock = 1;
                                if (f->hc[j].what < 0) f->hc[j].what = (int)i;
                                break;
                            }
                    }
                }
                f->hc_n = len;
                found = 1;
            } else if (!mark[t]) {
                path[depth] = t; pos[depth] = adj0[t]; depth++; mark[t] = 1;
            }
        }
    }
done:
    free(W.stamp); free(W.queue); free(W.w); free(W.tgt); free(W.dead);
    free(node_of); free(order); free(path); free(pos); free(adj0); free(adj); free(mark); free(wfirst);
}

/* appends to the report the "who waits on whom" section, from the records of wait_analyse alone */
static void wait_print(wse_fabric_t *f) {
#define APP(...) rep_app(f, __VA_ARGS__)
    if (f->hw_status == 1) { APP("(not enough host memory to work out who waits on whom)\n"); return; }
    if (!f->hw_n) return;
    APP("who waits on whom (along the routes of the colors):\n");
    for (uint32_t i = 0; i < f->hw_n && i < WAIT_SHOW; i++) {
        const wse_wait *w = &f->hw[i];
        const wse_wait_end *tg = f->he + w->first_target, *de = f->he + w->first_dead;
        int send = w->kind != WSE_WAIT_FABIN;
        char who[16] = "";
        if (w->microthread >= 0) snprintf(who, sizeof who, " ut%d", w->microthread);
        if (w->n_targets) {
            APP("  PE (%u,%u)%s waits %s color %d %s", w->x, w->y, who, send ? "to send" : "for", w->color,
                send ? "to" : "from");
            for (uint32_t j = 0; j < w->n_targets; j++) APP("%s PE (%u,%u)", j ? "," : "", tg[j].x, tg[j].y);
            if (w->n_targets_more) APP(" and %u more", w->n_targets_more);
            for (uint32_t j = 0; j < w->n_targets; j++)
                if (tg[j].what) APP("; nothing is running or activated on PE (%u,%u)", tg[j].x, tg[j].y);
        } else if (send) {
            APP("  PE (%u,%u)%s waits to send color %d, but its route leads to no CE", w->x, w->y, who, w->color);
        } else {
            APP("  PE (%u,%u)%s waits for color %d, but no CE sends it there:", w->x, w->y, who, w->color);
            for (uint32_t j = 0; j < w->n_dead; j++) {
                const char *sep = j ? ";" : "";
                switch (de[j].what) {
                case WSE_DEAD_EDGE: APP("%s PE (%u,%u)'s route takes it from outside the fabric (only the host can send it)", sep, de[j].x, de[j].y); break;
                case WSE_DEAD_NO_PROGRAM: APP("%s PE (%u,%u) has no program", sep, de[j].x, de[j].y); break;
                case WSE_DEAD_NOT_TOWARD: APP("%s PE (%u,%u)'s route for color %d does not send it on that way", sep, de[j].x, de[j].y, w->color); break;
                case WSE_DEAD_NO_ROUTE: APP("%s it has no route for color %d", sep, w->color); break;
                default: APP("%s its route for color %d does not deliver to its CE (no ramp among its outputs)", sep, w->color); break;
                }
            }
        }
        APP("\n");
    }
    if (f->hw_n > WAIT_SHOW) APP("  ... and %u more waits\n", f->hw_n - WAIT_SHOW);
    if (f->hw_trunc) APP("  (only the first %d waits were analysed)\n", WAIT_MAX);
    if (f->hw_status == 2) APP("(not enough host memory to look for a cycle of waits)\n");
    else if (f->hc_n) {
        APP("  a cycle of waits:");
        for (uint32_t j = 0; j < f->hc_n; j++) APP(" PE (%u,%u) ->", f->hc[j].x, f->hc[j].y);
        APP(" PE (%u,%u): %s (a deadlock)\n", f->hc[0].x, f->hc[0].y,
            f->hc_n == 1 ? "it waits for itself, so it cannot go on"
                         : "each waits for the next, so none of them can go on");
    }
#undef APP
}

int wse_waits(wse_fabric *f, wse_waits_info *info, wse_wait *waits, unsigned int cap_waits,
              wse_wait_end *ends, unsigned int cap_ends, wse_wait_end *cycle, unsigned int cap_cycle) {
    if (!f) return WSE_BAD_ARG;
    if (!info) return null_arg(f, "wse_waits", "info");
    struct { const void *buf; unsigned int cap, need; const char *what; } b[3] = {
        { waits, cap_waits, f->hw_n, "waits" }, { ends, cap_ends, f->he_n, "ends" }, { cycle, cap_cycle, f->hc_n, "cycle PEs" } };
    for (int i = 0; i < 3; i++) {
        if (!b[i].buf && b[i].cap) { wse__set_msg(f, "wse_waits: a null buffer for %u %s", b[i].cap, b[i].what); return WSE_BAD_ARG; }
        if (b[i].buf && b[i].cap < b[i].need) {
            wse__set_msg(f, "wse_waits: room for %u %s, the hang has %u", b[i].cap, b[i].what, b[i].need);
            return WSE_BAD_ARG;
        }
    }
    memset(info, 0, sizeof *info);
    info->hang = f->hw_hang; info->status = f->hw_status; info->truncated = f->hw_trunc;
    info->n_waits = f->hw_n; info->n_ends = f->he_n; info->n_cycle = f->hc_n;
    if (waits && f->hw_n) memcpy(waits, f->hw, f->hw_n * sizeof *waits);
    if (ends && f->he_n) memcpy(ends, f->he, f->he_n * sizeof *ends);
    if (cycle && f->hc_n) memcpy(cycle, f->hc, f->hc_n * sizeof *cycle);
    return WSE_OK;
}

static void hang_report(wse_fabric_t *f) { state_report(f, NULL, 1); wait_analyse(f); wait_print(f); }

int wse_state_report(wse_fabric *f) {
    if (!f) return WSE_BAD_ARG;
    if (!f->loaded) { wse__set_msg(f, "no program is loaded"); return WSE_BAD_ARG; }
    char head[96];
    snprintf(head, sizeof head, "state at cycle %llu:", (unsigned long long)f->t);
    state_report(f, head, 0);
    return WSE_OK;
}

static int watchdog(wse_fabric_t *f, uint64_t max_cycles) {
    f->t = max_cycles;
    char head[160];              /* (no waits: it may still move) */
    snprintf(head, sizeof head, "watchdog: the cycle counter reached max_cycles = %llu; the state:", (unsigned long long)max_cycles);
    state_report(f, head, 0);
    return WSE_WATCHDOG;
}

/* Run (docs/timing.md, Clarifications "Run end"): returns WSE_OK at the first boundary at which
   the fabric is idle (or at stop_at when it is idle before), WSE_PAUSED at stop_at, WSE_HANG,
   WSE_FAULT or WSE_WATCHDOG. */
static int run_loop(wse_fabric_t *f, uint64_t stop_at, uint64_t max_cycles, uint64_t slice, uint64_t ns);

int wse_run_slice(wse_fabric *f, unsigned long long stop_at, unsigned long long max_cycles,
                  unsigned long long slice) {
    if (!f) return WSE_BAD_ARG;
    if (!f->loaded || f->faulted) return run_loop(f, stop_at, max_cycles, 0, 0);
    int rc = run_loop(f, stop_at, max_cycles, slice, 0);
    if (rc != WSE_YIELD) flush_parked(f);
    return rc;
}

int wse_run_timed(wse_fabric *f, unsigned long long stop_at, unsigned long long max_cycles,
                  unsigned long long ns) {
    if (!f) return WSE_BAD_ARG;
    if (!f->loaded || f->faulted) return run_loop(f, stop_at, max_cycles, 0, 0);
    int rc = run_loop(f, stop_at, max_cycles, 0, ns);
    if (rc != WSE_YIELD) flush_parked(f);
    return rc;
}

/* a monotonic clock in nanoseconds (wse_run_timed's slices) */
static uint64_t now_ns(void) {
    struct timespec ts;
#if defined(CLOCK_MONOTONIC)
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0) return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
    if (timespec_get(&ts, TIME_UTC) == TIME_UTC) return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    return 0;
}

/* wse_run_timed reads the clock at the first cycle boundary after this much work (f->work)
   since it last did: about 10-200 us of host time, so the reads cost nothing measurable */
#define WORK_PER_CLOCK_READ 4096

int wse_run(wse_fabric *f, unsigned long long stop_at, unsigned long long max_cycles) {
    return wse_run_slice(f, stop_at, max_cycles, 0);
}

/* the run stops where a growth failed (nothing after it is emulated on a state that lost
   something); the fabric refuses further runs until it is loaded again */
static int run_nomem(wse_fabric_t *f) {
    wse__set_msg(f, "out of host memory at cycle %llu: growing %s failed, so the emulated state is incomplete "
                 "and the run stopped; free memory (or turn tracing off) and load the program again",
                 (unsigned long long)f->oom_t, f->oom);
    return WSE_NOMEM;
}

static int run_loop(wse_fabric_t *f, uint64_t stop_at, uint64_t max_cycles, uint64_t slice, uint64_t ns) {
    if (!f->loaded) { wse__set_msg(f, "no program is loaded"); return WSE_BAD_ARG; }
    if (max_cycles && max_cycles < f->t) {
        /* absolute: the watchdog cannot fire before now (the cycle was wound back to it) */
        wse__set_msg(f, "max_cycles %llu is before the fabric's cycle %llu (it is absolute)",
                     (unsigned long long)max_cycles, (unsigned long long)f->t);
        return WSE_BAD_ARG;
    }
    if (f->faulted) { wse__set_msg(f, "the fabric stopped on a fault; load it again"); return WSE_FAULT; }
    if (f->oom) {
        wse__set_msg(f, "the fabric ran out of host memory at cycle %llu (growing %s) and its state is incomplete; load it again",
                     (unsigned long long)f->oom_t, f->oom);
        return WSE_NOMEM;
    }
    f->msg[0] = 0; f->rep_live = 0;
    waits_clear(f);                       /* (the waits are those of the last run's hang) */
    uint64_t start_t = f->t;
    /* a run that goes on after a yield keeps its last active cycle (so that its end is the
       one a single call gives) */
    int was_resuming = f->resuming;
    if (!was_resuming) f->last_active = start_t;
    f->resuming = 0;
    /* a timed slice: the clock is read at a cycle boundary once WORK_PER_CLOCK_READ work has
       been done since the last read, and the slice ends at the first read at or after the
       deadline (so it overshoots by at most that work and the rest of one visited cycle) */
    uint64_t deadline = 0, read_at = NEVER;
    if (ns) {
        uint64_t t0 = now_ns();
        deadline = t0 + ns < t0 ? NEVER : t0 + ns;
        read_at = f->work + WORK_PER_CLOCK_READ;
    }
    int blocked_only;
    for (uint64_t visits = 0;; visits++) {
        uint64_t t = f->t;
        if (t >= stop_at) {
            if (!visits) f->resuming = was_resuming;   /* nothing ran: still the same run */
            return WSE_PAUSED;
        }
        if (slice && visits >= slice) { f->resuming = 1; return WSE_YIELD; }
        if (f->work >= read_at) {
            if (now_ns() >= deadline) { f->resuming = 1; return WSE_YIELD; }
            read_at = f->work + WORK_PER_CLOCK_READ;
        }
        if (max_cycles && t >= max_cycles) {
            if (fabric_idle(f, &blocked_only)) { f->t = f->last_active; return WSE_OK; }
            return watchdog(f, max_cycles);
        }
        f->work += 1 + f->ract_n + f->rnew_n;
        f->happened = 0;
        f->next_router_t = NEVER;
        f->stall_n = 0;
        f->phase = 1;
        phase1(f, t);
        if (f->faulted) return WSE_FAULT;
        if (f->oom) return run_nomem(f);
        f->phase = 2;
        phase2(f, t);
        if (f->faulted) return WSE_FAULT;
        if (f->oom) return run_nomem(f);
        f->phase = 0;
        if (f->happened) { f->last_active = t + 1; f->t = t + 1; continue; }
        uint64_t nt = next_event_t(f);
        if (f->next_router_t < nt) nt = f->next_router_t;
        int hang = 0;
        if (nt == NEVER) {
            if (fabric_idle(f, &blocked_only)) {
                f->t = stop_at != NEVER && stop_at > f->last_active ? stop_at : f->last_active;
                return WSE_OK;
            }
            /* no event: the reference steps until every buffered wavelet is ready, then hangs */
            uint64_t m = max_ready(f);
            nt = (m > t ? m : t) + 1;
            hang = 1;
        }
        if (nt <= t) nt = t + 1;
        uint64_t target = nt;
        if (target > stop_at) target = stop_at;
        if (max_cycles && target > max_cycles) target = max_cycles;
        /* the skipped cycles repeat this cycle's stalls */
        if (target > t + 1) {
            uint64_t rep = target - t - 1;
            for (size_t i = 0; i < f->stall_n; i++) f->pes[f->stall_pes[i]]->st_stalls += rep;
        }
        f->t = target;
        if (hang && target == nt) { hang_report(f); return WSE_HANG; }
        if (hang) continue;   /* stop_at or max_cycles first */
    }
}

unsigned long long wse_cycle(const wse_fabric *f) { return f ? f->t : 0; }

int wse_is_idle(const wse_fabric *f) {
    int b;
    if (!f || !f->loaded) return 0;
    return fabric_idle((wse_fabric_t *)f, &b);
}

int wse_fault_get(const wse_fabric *f, wse_fault_info *out) {
    if (!f) return WSE_BAD_ARG;
    if (!out) return null_arg(f, "wse_fault_get", "output");
    *out = f->fault;
    return WSE_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* stats and state                                                                            */

static void pe_stats_fill(const wse_fabric_t *f, const pe_t *p, wse_stats *s) {
    s->instructions += pe_instr(p, f->t);
    s->busy_cycles += p->st_busy + (p->task >= 0 ? f->t - p->task_start : 0);
    s->wavelets_sent += p->st_sent;
    s->wavelets_received += p->st_recv;
    s->stalls += p->st_stalls;
    s->tasks += p->st_tasks;
    s->tensor_elements += p->st_elems;
    s->wavelet_hops += p->st_hops;
    s->pes += 1;
}

int wse_stats_get(const wse_fabric *f, wse_stats *out) {
    if (!f) return WSE_BAD_ARG;
    if (!out) return null_arg(f, "wse_stats_get", "output");
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < (size_t)f->W * f->H; i++) if (f->pes[i]) pe_stats_fill(f, f->pes[i], out);
    out->cycles = f->t;
    out->wavelet_hops = f->st_hops;
    out->host_in = f->st_host_in;
    out->host_out = f->st_host_out;
    uint64_t total = f->t * out->pes;
    out->idle_cycles = total > out->busy_cycles ? total - out->busy_cycles : 0;
    return WSE_OK;
}

int wse_pe_stats(const wse_fabric *f, unsigned int x, unsigned int y, wse_stats *out) {
    if (!f) return WSE_BAD_ARG;
    if (!out) return null_arg(f, "wse_pe_stats", "output");
    memset(out, 0, sizeof *out);
    if (x >= f->W || y >= f->H) return bad_arg(f, "PE (%u,%u) is outside the %ux%u fabric", x, y, f->W, f->H);
    const pe_t *p = f->pes[(size_t)y * f->W + x];
    out->cycles = f->t;
    if (!p) return WSE_OK;
    pe_stats_fill(f, p, out);
    out->idle_cycles = f->t > out->busy_cycles ? f->t - out->busy_cycles : 0;
    return WSE_OK;
}

static void q_dump(const q_t *q, int *n, wse_qentry *out) {
    *n = q->n;
    for (int i = 0; i < q->n; i++) {
        const wl_t *w = &q->w[(q->head + i) & (QCAP - 1)];
        out[i].payload = w->payload; out[i].ctrl = w->ctrl; out[i].ready = w->ready;
    }
}

/* wse.h's snapshot is part of the public API, so its array sizes are literals; they must be the
   ISA's counts (isa/isa.toml), which the generated wse_isa.h gives */
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
_Static_assert(ARRAY_LEN(((wse_pe_state *)0)->dsrs) == WSE_NUM_DSRS
               && ARRAY_LEN(((wse_pe_state *)0)->has_route) == NCOLORS
               && ARRAY_LEN(((wse_pe_state *)0)->ut_busy) == NUT,
               "wse_pe_state in wse.h: dsrs, the per-color and the per-microthread arrays must have "
               "WSE_NUM_DSRS, WSE_MAX_COLORS and WSE_MAX_MICROTHREADS entries");

int wse_pe_state_get(const wse_fabric *f, unsigned int x, unsigned int y, wse_pe_state *out,
                     unsigned short *mem_out) {
    if (!f) return WSE_BAD_ARG;
    if (!out) return null_arg(f, "wse_pe_state_get", "output");
    if (x >= f->W || y >= f->H) return bad_arg(f, "PE (%u,%u) is outside the %ux%u fabric", x, y, f->W, f->H);
    memset(out, 0, sizeof *out);
    out->pc = -1; out->task = -1;
    for (int i = 0; i < 24; i++) { out->dsrs[i].dsd = -1; out->dsrs[i].ldsd_pc = -1; out->dsrs[i].changed_pc = -1; }
    const pe_t *p = f->pes[(size_t)y * f->W + x];
    if (!p) return WSE_OK;
    out->placed = 1;
    memcpy(out->regs, p->regs, sizeof out->regs);
    out->task = p->task;
    out->pc = p->task >= 0 ? (long long)p->pc : -1;
    out->activated = p->activated;
    out->blocked = p->blocked;
    for (int i = 0; i < 24; i++) {
        const dsr_t *d = &p->dsr[i];
        wse_dsr_state *o = &out->dsrs[i];
        o->kind = d->kind; o->color = d->color; o->base = d->base;
        for (int k = 0; k < 4; k++) { o->len[k] = d->len[k]; o->stride[k] = d->stride[k]; }
        const dsr_src_t *s = &p->dsr_src[i];
        if (s->dsd1) {
            o->dsd = (int)(s->dsd1 - 1); o->ldsd_pc = (int)s->pc;
            if (s->chg) { o->changed = s->chg; o->changed_op = s->chg_op; o->changed_pc = (int)s->chg_pc; }
        }
    }
    for (uint32_t c = 0; c < p->ncols; c++) {
        const col_t *cs = &p->cols[c];
        out->has_route[cs->color] = 1;
        out->switch_pos[cs->color] = cs->pos;
        q_dump(&cs->rb, &out->n_rb[cs->color], out->rb[cs->color]);
        q_dump(&cs->oq, &out->n_oq[cs->color], out->oq[cs->color]);
        q_dump(&cs->iq, &out->n_iq[cs->color], out->iq[cs->color]);
    }
    for (int u = 0; u < NUT; u++) {
        if (!(p->ut_mask >> u & 1)) continue;
        out->ut_busy[u] = 1; out->ut_opcode[u] = p->ut[u].opcode;
        out->ut_done[u] = p->ut[u].done; out->ut_total[u] = p->ut[u].n;
    }
    out->instructions = pe_instr(p, f->t);
    out->busy_cycles = p->st_busy + (p->task >= 0 ? f->t - p->task_start : 0);
    out->wavelets_sent = p->st_sent;
    out->wavelets_received = p->st_recv;
    out->stalls = p->st_stalls;
    if (mem_out) memcpy(mem_out, p->mem, (size_t)f->sram_words * 2);
    return WSE_OK;
}
