/* wse_load.c: the core's own reader of the object format (docs/object-format.md).
 *
 * It validates everything before the fabric is touched: header, checksum, section table,
 * every instruction word (decoded with the masks and matches of wse_isa.h), every jump and
 * branch target, chunks, DSDs, tasks, routes, placement, symbols and lines. A malformed file
 * is rejected with the reason; no input makes it read outside the buffer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "wse_internal.h"

/* ---- arena: every allocation of a loaded program, freed together ---- */
typedef struct arena_blk { struct arena_blk *next; max_align_t data[]; } arena_blk;

static void *arena_alloc(void **arena, size_t n) {
    arena_blk *b = (arena_blk *)calloc(1, sizeof(arena_blk) + (n ? n : 1));
    if (!b) return NULL;
    b->next = (arena_blk *)*arena;
    *arena = b;
    return b->data;
}

void wse__arena_free(void *arena) {
    arena_blk *b = (arena_blk *)arena;
    while (b) { arena_blk *n = b->next; free(b); b = n; }
}

void wse__set_msg(wse_fabric_t *f, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    f->rep_live = 0;
    int w = vsnprintf(f->msg, sizeof f->msg, fmt, ap);
    va_end(ap);
    if (w >= (int)sizeof f->msg) wse__mark_cut(f->msg, sizeof f->msg);   /* (never silently) */
}

/* ---- bounded reader ---- */
typedef struct { const uint8_t *d; size_t pos, end; const char *what; char *err; size_t errlen; int bad; } rd_t;

static int rd_fail(rd_t *r, const char *fmt, ...) {
    if (!r->bad) {
        va_list ap;
        va_start(ap, fmt);
        int k = snprintf(r->err, r->errlen, "%s: ", r->what);
        if (k < 0) k = 0;
        if ((size_t)k < r->errlen) vsnprintf(r->err + k, r->errlen - (size_t)k, fmt, ap);
        va_end(ap);
    }
    r->bad = 1;
    return 0;
}

static int rd_need(rd_t *r, size_t n) {
    if (r->bad) return 0;
    if (n > r->end - r->pos)
        return rd_fail(r, "truncated at byte %zu (needs %zu more bytes, ends at %zu)", r->pos, n, r->end);
    return 1;
}
static uint8_t rd_u8(rd_t *r) { if (!rd_need(r, 1)) return 0; return r->d[r->pos++]; }
static uint16_t rd_u16(rd_t *r) {
    if (!rd_need(r, 2)) return 0;
    uint16_t v = (uint16_t)(r->d[r->pos] | (r->d[r->pos + 1] << 8));
    r->pos += 2; return v;
}
static uint32_t rd_u32(rd_t *r) {
    if (!rd_need(r, 4)) return 0;
    const uint8_t *p = r->d + r->pos;
    uint32_t v = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
    r->pos += 4; return v;
}
/* a count of records of `each` bytes that must fit in what remains */
static uint32_t rd_count(rd_t *r, size_t each, const char *label) {
    uint32_t n = rd_u32(r);
    if (r->bad) return 0;
    if ((uint64_t)n * each > r->end - r->pos) { rd_fail(r, "%s count %u does not fit", label, n); return 0; }
    return n;
}

static uint32_t crc32_z(const uint8_t *p, size_t n) {
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

/* ---- instruction decode (from wse_isa.h) ---- */
/* Decode a word into d; returns 0 when it is not a legal instruction. */
int wse__decode(uint32_t w, dinsn_t *d) {
    uint8_t op = (uint8_t)WSE_F_OP(w);
    const insn_desc_t *in = wse__insn_by_op(op);
    if (!in || (w & in->mask) != in->match) return 0;
    memset(d, 0, sizeof *d);
    d->op = op;
    d->word = w;
    if (op >= 0x80) { /* tensor op */
        d->r1 = (uint8_t)WSE_F_DD(w); d->r2 = (uint8_t)WSE_F_DA(w); d->r3 = (uint8_t)WSE_F_DB(w);
        d->rs = (uint8_t)WSE_F_RS(w); d->act = (uint8_t)WSE_F_ACT(w); d->ut = (uint8_t)WSE_F_UT(w);
        d->tid = (uint8_t)WSE_F_TID(w);
        if (d->act == 0 && (d->ut || d->tid)) return 0;
        if (d->act == 1 && d->tid) return 0;
        return 1;
    }
    switch (op) {
    case WSE_OP_TRAP: d->imm = (int32_t)WSE_F_UIMM16(w); break;
    case WSE_OP_ANDI: case WSE_OP_ORI: case WSE_OP_XORI: case WSE_OP_LUI:
        d->imm = (int32_t)WSE_F_UIMM16(w); break;
    case WSE_OP_SLLI: case WSE_OP_SRLI: case WSE_OP_SRAI: d->imm = (int32_t)WSE_F_SHAMT(w); break;
    case WSE_OP_JMP: case WSE_OP_CALL: d->imm = (int32_t)WSE_F_TGT24(w); break;
    case WSE_OP_LDSD: case WSE_OP_DSDADDI: case WSE_OP_DSDBASE: case WSE_OP_DSDADD: case WSE_OP_DSDLEN:
        if (WSE_F_DSR(w) >= WSE_NUM_DSRS) return 0;
        d->imm = op == WSE_OP_LDSD ? (int32_t)WSE_F_DSDIDX(w) : WSE_F_IMM16(w);
        break;
    case WSE_OP_ACTIVATE: case WSE_OP_BLOCK: case WSE_OP_UNBLOCK: d->imm = (int32_t)WSE_F_TID(w); break;
    case WSE_OP_SEND: case WSE_OP_SENDC:
        if (WSE_F_COLOR(w) >= WSE_MAX_COLORS) return 0;
        break;
    default: d->imm = WSE_F_IMM16(w); break;
    }
    d->r1 = (uint8_t)WSE_F_R1(w); d->r2 = (uint8_t)WSE_F_R2(w); d->r3 = (uint8_t)WSE_F_R3(w);
    switch (op) {
    case WSE_OP_LDSD: case WSE_OP_DSDBASE: case WSE_OP_DSDADD: case WSE_OP_DSDADDI: case WSE_OP_DSDLEN:
        d->r1 = (uint8_t)WSE_F_DSR(w); d->r2 = (uint8_t)WSE_F_RQ(w); break;
    case WSE_OP_SEND: case WSE_OP_SENDC:
        d->r1 = (uint8_t)WSE_F_COLOR(w); d->r2 = (uint8_t)WSE_F_RQ(w); break;
    default: break;
    }
    return 1;
}

/* ---- strings ---- */
/* a name the assembler can write back: [A-Za-z_][A-Za-z0-9_]* (wse-objdump prints it as is) */
static int is_ident(const char *s) {
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_')) return 0;
    for (s++; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) return 0;
    return 1;
}

/* a name the assembler cannot define (a register, DSR, microthread or built-in): a symbol named
   so could not be printed back as source (WSE_RESERVED_NAMES_INIT is sorted by strcmp) */
static int is_reserved(const char *s) {
    static const char *const names[WSE_NUM_RESERVED_NAMES] = WSE_RESERVED_NAMES_INIT;
    size_t lo = 0, hi = WSE_NUM_RESERVED_NAMES;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s, names[mid]);
        if (c == 0) return 1;
        if (c < 0) hi = mid; else lo = mid + 1;
    }
    return 0;
}

static const char *str_at(rd_t *r, const char *strtab, size_t len, uint32_t off) {
    if (r->bad) return "";
    if (off >= len) { rd_fail(r, "string offset %u is outside STRTAB (%zu bytes)", off, len); return ""; }
    if (!memchr(strtab + off, 0, len - off)) { rd_fail(r, "string at %u is not NUL-terminated", off); return ""; }
    /* UTF-8 check, as strict as Python's decoder (which wse.isa.objfile uses): no overlong
       forms (C0, C1, E0 80..9F, F0 80..8F), no surrogates (ED A0..BF) and nothing past
       U+10FFFF (F4 90.., F5..FF); the readers must agree on every string */
    const uint8_t *s = (const uint8_t *)strtab + off;
    while (*s) {
        uint8_t c = *s;
        int k = c < 0x80 ? 0 : (c >= 0xc2 && c <= 0xdf) ? 1 : (c >= 0xe0 && c <= 0xef) ? 2 : (c >= 0xf0 && c <= 0xf4) ? 3 : -1;
        if (k < 0) { rd_fail(r, "string at %u is not UTF-8", off); return ""; }
        /* the range of the byte after the lead */
        uint8_t lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80, hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
        s++;
        for (int i = 0; i < k; i++, s++) {
            if (i == 0 ? (*s < lo || *s > hi) : (*s & 0xc0) != 0x80) { rd_fail(r, "string at %u is not UTF-8", off); return ""; }
        }
    }
    return strtab + off;
}

int wse_peek(const unsigned char *data, unsigned long long len, int *arch, unsigned int *width,
             unsigned int *height, char *err, unsigned int err_len) {
    char dummy[8];
    if (!err || !err_len) { err = dummy; err_len = sizeof dummy; }
    err[0] = 0;
    if (!data) { snprintf(err, err_len, "no data"); return WSE_BAD_ARG; }
    if (len < 32) { snprintf(err, err_len, "file is %llu bytes, shorter than the 32-byte header", len); return WSE_LOAD_ERROR; }
    if (memcmp(data, "WSEO", 4) != 0) { snprintf(err, err_len, "bad magic: not a wse object file (expected WSEO)"); return WSE_LOAD_ERROR; }
    rd_t r = { data, 4, (size_t)len, "header", err, err_len, 0 };
    uint16_t version = rd_u16(&r), flags = rd_u16(&r);
    uint8_t a = rd_u8(&r);
    uint8_t res0 = rd_u8(&r), res1 = rd_u8(&r), res2 = rd_u8(&r);
    uint16_t w = rd_u16(&r), h = rd_u16(&r);
    uint32_t nsec = rd_u32(&r), size = rd_u32(&r), crc = rd_u32(&r), res3 = rd_u32(&r);
    (void)nsec;
    if (version != WSE_OBJ_VERSION) {
        /* (what the versions it refuses lacked: as wse.isa.objfile.OLD_VERSIONS) */
        const char *old = version == 1 ? "; version 1 had no EXPANSIONS and no DSD names"
                        : version == 2 ? "; version 2 had no DSD names" : "";
        snprintf(err, err_len, "object format version %u is not supported (this is %d%s); re-assemble the source", version, WSE_OBJ_VERSION, old);
        return WSE_LOAD_ERROR;
    }
    if (flags || res0 || res1 || res2 || res3) { snprintf(err, err_len, "header: reserved fields or flags are not 0"); return WSE_LOAD_ERROR; }
    if (size != len) { snprintf(err, err_len, "header says %u bytes but the file has %llu", size, len); return WSE_LOAD_ERROR; }
    if (crc32_z(data + 32, (size_t)len - 32) != crc) { snprintf(err, err_len, "checksum mismatch: the file is corrupt"); return WSE_LOAD_ERROR; }
    if (a >= WSE_NUM_PRESETS) { snprintf(err, err_len, "unknown arch code %u", a); return WSE_LOAD_ERROR; }
    if (w < 1 || w > 4096 || h < 1 || h > 4096) { snprintf(err, err_len, "fabric size %ux%u out of range 1..4096", w, h); return WSE_LOAD_ERROR; }
    if (arch) *arch = a;
    if (width) *width = w;
    if (height) *height = h;
    return WSE_OK;
}

static int is_branch(uint8_t op) { return op >= WSE_OP_BEQ && op <= WSE_OP_BGEU; }

int wse__load(wse_fabric_t *f, const uint8_t *data, size_t len) {
    char err[1024];
    int a; unsigned int ow, oh;
    int st = wse_peek(data, len, &a, &ow, &oh, err, sizeof err);
    if (st != WSE_OK) { wse__set_msg(f, "%s", err); return st; }
    if (a != f->arch) {
        wse__set_msg(f, "the object is for %s but the fabric is %s", a ? "wse3" : "wse2", f->arch ? "wse3" : "wse2");
        return WSE_LOAD_ERROR;
    }
    if (ow > f->W || oh > f->H) {
        wse__set_msg(f, "the object was made for a %ux%u fabric; this fabric is %ux%u", ow, oh, f->W, f->H);
        return WSE_LOAD_ERROR;
    }
    err[0] = 0;
    void *arena = NULL;
    rd_t r = { data, 16, len, "header", err, sizeof err, 0 };
    uint32_t nsec = rd_u32(&r);
#define NSEC 6
    if (nsec != NSEC) { wse__set_msg(f, "%u sections; version %d has exactly %d", nsec, WSE_OBJ_VERSION, NSEC); return WSE_LOAD_ERROR; }
    static const char *SECN[NSEC + 1] = { "", "STRTAB", "IMAGES", "PLACEMENT", "SYMBOLS", "LINES", "EXPANSIONS" };
    size_t soff[NSEC + 1], send_[NSEC + 1];
    r.pos = 32; r.what = "section table";
    for (uint32_t i = 0; i < NSEC; i++) {
        uint32_t kind = rd_u32(&r), off = rd_u32(&r), ln = rd_u32(&r);
        if (r.bad) break;
        if (kind != i + 1) { rd_fail(&r, "section %u has kind %u, expected %u (%s)", i, kind, i + 1, SECN[i + 1]); break; }
        if (off % 4 || off < 32 + 12 * NSEC || (uint64_t)off + ln > len) { rd_fail(&r, "section %s at %u+%u is misaligned or outside the file", SECN[kind], off, ln); break; }
        soff[kind] = off; send_[kind] = (size_t)off + ln;
    }
    if (r.bad) { wse__set_msg(f, "%s", err); return WSE_LOAD_ERROR; }
    const char *strtab = (const char *)data + soff[1];
    size_t strlen_ = send_[1] - soff[1];
    if (strlen_ == 0 || strtab[0] != 0) { wse__set_msg(f, "STRTAB: must start with the empty string"); return WSE_LOAD_ERROR; }
    /* keep our own copy of the string table: names and files point into it */
    char *strcopy = (char *)arena_alloc(&arena, strlen_);
    if (!strcopy) { wse__set_msg(f, "out of memory"); return WSE_NOMEM; }
    memcpy(strcopy, strtab, strlen_);
    const uint32_t words = f->P.sram_words;

    /* ---- IMAGES ---- */
    rd_t ri = { data, soff[2], send_[2], "IMAGES", err, sizeof err, 0 };
    uint32_t n_img = rd_count(&ri, 4, "image");
    image_t *imgs = (image_t *)arena_alloc(&arena, sizeof(image_t) * (n_img ? n_img : 1));
    if (!imgs) { wse__arena_free(arena); wse__set_msg(f, "out of memory"); return WSE_NOMEM; }
    char what[64];
    for (uint32_t ii = 0; ii < n_img && !ri.bad; ii++) {
        uint32_t isz = rd_u32(&ri);
        if (ri.bad) break;
        snprintf(what, sizeof what, "image %u", ii);
        if (isz % 4 || isz > ri.end - ri.pos) { rd_fail(&ri, "image %u: size %u is not a multiple of 4 or overruns IMAGES", ii, isz); break; }
        rd_t r2 = { data, ri.pos, ri.pos + isz, what, err, sizeof err, 0 };
        ri.pos += isz;
        image_t *img = &imgs[ii];
        memset(img, 0, sizeof *img);
        memset(img->data_task_of_color, -1, sizeof img->data_task_of_color);
        uint32_t name_off = rd_u32(&r2);
        img->mem_words = rd_u32(&r2);
        img->name = str_at(&r2, strcopy, strlen_, name_off);
        uint32_t n_code = rd_count(&r2, 4, "code");
        if (r2.bad) { ri.bad = 1; break; }
        img->n_code = n_code;
        img->dec = (dinsn_t *)arena_alloc(&arena, sizeof(dinsn_t) * (n_code + 1));
        if (!img->dec) { wse__arena_free(arena); wse__set_msg(f, "out of memory"); return WSE_NOMEM; }
        if ((uint64_t)img->mem_words > words || 2ull * n_code > img->mem_words) {
            rd_fail(&r2, "mem_words %u must be >= code (%llu) and <= SRAM (%u words)", img->mem_words, 2ull * n_code, words);
        }
        for (uint32_t pc = 0; pc < n_code && !r2.bad; pc++) {
            uint32_t w = rd_u32(&r2);
            dinsn_t *d = &img->dec[pc];
            if (!wse__decode(w, d)) { rd_fail(&r2, "pc %u: illegal instruction word 0x%08x", pc, w); break; }
            if ((d->op == WSE_OP_JMP || d->op == WSE_OP_CALL) && (uint32_t)d->imm >= n_code)
                rd_fail(&r2, "pc %u: jump target %d is outside the code (%u)", pc, d->imm, n_code);
            if (is_branch(d->op) && ((int64_t)pc + d->imm < 0 || (int64_t)pc + d->imm >= n_code))
                rd_fail(&r2, "pc %u: branch target %lld is outside the code", pc, (long long)pc + d->imm);
        }
        uint32_t n_chunks = rd_count(&r2, 8, "chunk");
        img->chunks = (chunk_t *)arena_alloc(&arena, sizeof(chunk_t) * (n_chunks + 1));
        if (!img->chunks) { wse__arena_free(arena); wse__set_msg(f, "out of memory"); return WSE_NOMEM; }
        for (uint32_t ci = 0; ci < n_chunks && !r2.bad; ci++) {
            uint32_t addr = rd_u32(&r2), n = rd_u32(&r2);
            if (r2.bad) break;
            if (addr < 2ull * n_code || (uint64_t)addr + n > img->mem_words) {
                rd_fail(&r2, "data chunk [%u, %llu) is outside [%u, %u)", addr, (unsigned long long)addr + n, 2 * n_code, img->mem_words);
                break;
            }
            size_t bytes = (size_t)n * 2 + ((n % 2) ? 2 : 0);
            if (!rd_need(&r2, bytes)) break;
            chunk_t *c = &img->chunks[img->n_chunks++];
            c->addr = addr; c->n = n;
            c->w = (uint16_t *)arena_alloc(&arena, (size_t)n * 2);
            if (!c->w) { wse__arena_free(arena); wse__set_msg(f, "out of memory"); return WSE_NOMEM; }
            for (uint32_t k = 0; k < n; k++) c->w[k] = rd_u16(&r2);
            if (n % 2) rd_u16(&r2);
        }
        uint32_t n_dsd = rd_count(&r2, 32, "DSD");
        img->dsd = (dsd_t *)arena_alloc(&arena, sizeof(dsd_t) * (n_dsd + 1));
        img->dsd_name = (const char **)arena_alloc(&arena, sizeof(const char *) * (n_dsd + 1));
        if (!img->dsd || !img->dsd_name) { wse__arena_free(arena); wse__set_msg(f, "out of memory"); return WSE_NOMEM; }
        for (uint32_t di = 0; di < n_dsd && !r2.bad; di++) {
            dsd_t *d = &img->dsd[di];
            d->kind = rd_u8(&r2); d->color = rd_u8(&r2); d->ndim = rd_u8(&r2);
            uint8_t res = rd_u8(&r2);
            d->base = rd_u32(&r2);
            d->len[0] = rd_u32(&r2);
            for (int k = 1; k < 4; k++) d->len[k] = rd_u16(&r2);
            uint16_t res2 = rd_u16(&r2);
            for (int k = 0; k < 4; k++) d->stride[k] = (int16_t)rd_u16(&r2);
            uint32_t name = rd_u32(&r2);
            if (r2.bad) break;
            img->dsd_name[di] = "";
            img->n_dsd++;
            if (d->kind < 1 || d->kind > 4) { rd_fail(&r2, "DSD %u: unknown kind %u", di, d->kind); break; }
            if (res || res2) { rd_fail(&r2, "DSD %u: reserved fields are not 0", di); break; }
            if (d->ndim < 1 || d->ndim > (d->kind == WSE_DSD_MEM4D ? 4 : 1)) { rd_fail(&r2, "DSD %u: ndim %u is invalid for its kind", di, d->ndim); break; }
            if ((d->kind == WSE_DSD_FABIN || d->kind == WSE_DSD_FABOUT) && d->color >= f->P.colors) { rd_fail(&r2, "DSD %u: color %u is not 0..%u", di, d->color, f->P.colors - 1); break; }
            if ((d->kind == WSE_DSD_MEM1D || d->kind == WSE_DSD_MEM4D) && d->base >= words) { rd_fail(&r2, "DSD %u: base %u is outside SRAM", di, d->base); break; }
            int unused_ok = 1;
            for (int k = d->ndim; k < 4; k++) if ((k && d->len[k] != 1) || d->stride[k]) unused_ok = 0;
            if (d->kind == WSE_DSD_FABIN || d->kind == WSE_DSD_FABOUT) { if (d->base || d->stride[0]) unused_ok = 0; }
            else if (d->color) unused_ok = 0;
            if (!unused_ok) { rd_fail(&r2, "DSD %u: unused fields must be 0 (lengths 1)", di); break; }
            int zero = 0;
            if (d->kind == WSE_DSD_MEM4D)
                for (int k = d->ndim - 1; k >= 1; k--) if (!d->len[k]) zero = k;
            if (zero) {
                rd_fail(&r2, "DSD %u: dimension %d of the mem4d has length 0 (only dimension 0 may: wse-as never "
                        "writes that); re-assemble the source with wse-as", di, zero);
                break;
            }
            if (name) {
                /* a name is a whole string (not the tail of another) and an identifier, so that
                   wse-objdump prints it back as source */
                if (name >= strlen_ || strcopy[name - 1]) {
                    rd_fail(&r2, "DSD %u: name offset %u is not the start of a string in STRTAB (%zu bytes)", di, name, strlen_);
                    break;
                }
                const char *nm = str_at(&r2, strcopy, strlen_, name);
                if (r2.bad) break;
                if (!is_ident(nm)) { rd_fail(&r2, "DSD %u: the name '%s' is not an identifier", di, nm); break; }
                img->dsd_name[di] = nm;
            }
        }
        /* the table is fixed at load, so an ldsd past it could never load anything */
        for (uint32_t pc = 0; pc < n_code && !r2.bad; pc++)
            if (img->dec[pc].op == WSE_OP_LDSD && (uint32_t)img->dec[pc].imm >= img->n_dsd)
                rd_fail(&r2, "pc %u: ldsd loads DSD %d, past the image's DSD table (%u entries): wse-as never "
                        "writes that; re-assemble the source with wse-as", pc, img->dec[pc].imm, img->n_dsd);
        uint32_t n_task = rd_count(&r2, 8, "task");
        for (uint32_t ti = 0; ti < n_task && !r2.bad; ti++) {
            uint8_t tid = rd_u8(&r2), kind = rd_u8(&r2), color = rd_u8(&r2), fl = rd_u8(&r2);
            uint32_t entry = rd_u32(&r2);
            if (r2.bad) break;
            if (tid >= f->P.task_ids || img->tasks[tid].defined) { rd_fail(&r2, "task id %u is out of range or listed twice", tid); break; }
            if (kind > 2 || (kind == WSE_TASK_DATA ? color >= f->P.colors : color != 255) || (fl & ~3)) {
                rd_fail(&r2, "task %u: bad kind/color/flags", tid); break;
            }
            if (kind == WSE_TASK_DATA && (fl & 1)) {
                rd_fail(&r2, "task %u: a data task cannot be activated at load (flags bit 0): it runs once per "
                        "wavelet of its color, and wse-as refuses `start` on one; re-assemble the source with wse-as", tid);
                break;
            }
            if (n_code == 0 || entry >= n_code) { rd_fail(&r2, "task %u: entry %u is outside the code", tid, entry); break; }
            if (kind == WSE_TASK_DATA) {
                if (img->data_task_of_color[color] >= 0) { rd_fail(&r2, "task %u: color %u already has a data task", tid, color); break; }
                img->data_task_of_color[color] = (int8_t)tid;
                img->data_mask |= 1ull << tid;
            } else {
                img->local_mask |= 1ull << tid;
            }
            task_t *t = &img->tasks[tid];
            t->defined = 1; t->kind = kind; t->color = color; t->flags = fl; t->entry = entry;
        }
        uint32_t n_routes = rd_count(&r2, 12, "route");
        img->routes = (route_t *)arena_alloc(&arena, sizeof(route_t) * (n_routes + 1));
        if (!img->routes) { wse__arena_free(arena); wse__set_msg(f, "out of memory"); return WSE_NOMEM; }
        uint32_t seen = 0;
        for (uint32_t ri2 = 0; ri2 < n_routes && !r2.bad; ri2++) {
            route_t *rt = &img->routes[ri2];
            rt->color = rd_u8(&r2); rt->npos = rd_u8(&r2); rt->iq = rd_u8(&r2); rt->oq = rd_u8(&r2);
            uint8_t p[8];
            for (int k = 0; k < 8; k++) p[k] = rd_u8(&r2);
            if (r2.bad) break;
            if (rt->color >= f->P.colors || ((seen >> rt->color) & 1) || rt->npos < 1 || rt->npos > 4 || rt->iq > 7 || rt->oq > 7) {
                rd_fail(&r2, "route for color %u: bad color, positions or queues", rt->color); break;
            }
            for (int k = 0; k < 8; k++) if (p[k] > 31) { rd_fail(&r2, "route for color %u: port mask out of range", rt->color); break; }
            for (int k = rt->npos; k < 4; k++) if (p[2 * k] || p[2 * k + 1]) { rd_fail(&r2, "route for color %u: unused positions must be 0", rt->color); break; }
            for (int k = 0; k < 4; k++) { rt->rx[k] = p[2 * k]; rt->tx[k] = p[2 * k + 1]; }
            seen |= 1u << rt->color;
            img->n_routes++;
        }
        if (!r2.bad && r2.pos != r2.end) rd_fail(&r2, "%zu unexpected bytes at the end of the record", r2.end - r2.pos);
        if (r2.bad) { ri.bad = 1; break; }
    }
    if (!ri.bad && ri.pos + 3 < ri.end) rd_fail(&ri, "%zu unexpected bytes at the end of the section", ri.end - ri.pos);
    if (ri.bad) { wse__arena_free(arena); wse__set_msg(f, "%s", err); return WSE_LOAD_ERROR; }

    /* ---- PLACEMENT ---- */
    rd_t rp = { data, soff[3], send_[3], "PLACEMENT", err, sizeof err, 0 };
    uint32_t n_rect = rd_count(&rp, 12, "rectangle");
    uint32_t *grid = NULL;
    if (!rp.bad) {
        grid = (uint32_t *)malloc(sizeof(uint32_t) * (size_t)ow * oh);
        if (!grid) { wse__arena_free(arena); wse__set_msg(f, "out of memory"); return WSE_NOMEM; }
        for (size_t i = 0; i < (size_t)ow * oh; i++) grid[i] = UINT32_MAX;
    }
    for (uint32_t k = 0; k < n_rect && !rp.bad; k++) {
        uint32_t x = rd_u16(&rp), y = rd_u16(&rp), w = rd_u16(&rp), h = rd_u16(&rp), im = rd_u32(&rp);
        if (rp.bad) break;
        if (im >= n_img || w == 0 || h == 0 || x + w > ow || y + h > oh) {
            rd_fail(&rp, "rectangle (%u,%u) %ux%u -> image %u is invalid", x, y, w, h, im); break;
        }
        for (uint32_t yy = y; yy < y + h && !rp.bad; yy++)
            for (uint32_t xx = x; xx < x + w; xx++) {
                uint32_t *g = &grid[(size_t)yy * ow + xx];
                if (*g != UINT32_MAX) { rd_fail(&rp, "PE (%u,%u) is placed twice", xx, yy); break; }
                *g = im;
            }
    }
    if (!rp.bad && rp.pos != rp.end) rd_fail(&rp, "unexpected bytes at the end of the section");

    /* ---- SYMBOLS ---- */
    /* (a failed PLACEMENT keeps its message: SYMBOLS is not read after it) */
    rd_t rs = { data, soff[4], send_[4], "SYMBOLS", err, sizeof err, rp.bad };
    uint32_t n_sym = rp.bad ? 0 : rd_count(&rs, 20, "symbol");
    /* count per image first */
    size_t sym_start = rs.pos;
    uint32_t prev_im = 0;
    const char *prev_nm = NULL;
    for (uint32_t k = 0; k < n_sym && !rs.bad; k++) {
        uint32_t name = rd_u32(&rs), im = rd_u32(&rs), value = rd_u32(&rs), count = rd_u32(&rs);
        uint8_t typ = rd_u8(&rs); rd_u8(&rs); rd_u8(&rs); rd_u8(&rs);
        if (rs.bad) break;
        if (im >= n_img || typ < 1 || typ > 5) { rd_fail(&rs, "bad image %u or type %u", im, typ); break; }
        const char *nm = str_at(&rs, strcopy, strlen_, name);
        if (!rs.bad && !is_ident(nm)) { rd_fail(&rs, "symbol name at %u is not an identifier", name); break; }
        if (!rs.bad && is_reserved(nm)) {
            rd_fail(&rs, "the name '%s' is reserved (a register, microthread or built-in): the assembler cannot define it", nm);
            break;
        }
        /* strictly increasing (image, name): sorted, no name twice in an image */
        if (prev_nm && (im < prev_im || (im == prev_im && strcmp(nm, prev_nm) <= 0))) {
            rd_fail(&rs, "entries are not sorted by (image, name), or a name repeats in an image (image %u, '%s')", im, nm);
            break;
        }
        prev_im = im; prev_nm = nm;
        if (typ == WSE_SYM_TASK) {
            if (value >= f->P.task_ids || count) rd_fail(&rs, "task symbol with id %u and count %u (must be 0)", value, count);
        } else {
            uint64_t e = (typ == WSE_SYM_F32 || typ == WSE_SYM_U32) ? 2 : 1;
            if ((uint64_t)value + (uint64_t)count * e > words || (e == 2 && value % 2))
                rd_fail(&rs, "symbol at %u with %u elements is outside SRAM or misaligned", value, count);
        }
        imgs[im].n_syms++;
    }
    for (uint32_t i = 0; i < n_img && !rs.bad; i++) {
        imgs[i].syms = (sym_t *)arena_alloc(&arena, sizeof(sym_t) * (imgs[i].n_syms + 1));
        if (!imgs[i].syms) { free(grid); wse__arena_free(arena); wse__set_msg(f, "out of memory"); return WSE_NOMEM; }
        imgs[i].n_syms = 0;
    }
    if (!rs.bad) {
        rs.pos = sym_start;
        for (uint32_t k = 0; k < n_sym; k++) {
            uint32_t name = rd_u32(&rs), im = rd_u32(&rs), value = rd_u32(&rs), count = rd_u32(&rs);
            uint8_t typ = rd_u8(&rs); rd_u8(&rs); rd_u8(&rs); rd_u8(&rs);
            sym_t *s = &imgs[im].syms[imgs[im].n_syms++];
            s->name = strcopy + name; s->value = value; s->count = count; s->type = typ;
        }
        if (rs.pos != rs.end) rd_fail(&rs, "unexpected bytes at the end of the section");
    }
    /* every task has a task symbol naming it (wse-as names every task; wse-objdump declares a
       task under its symbol, and a made-up name would add one) */
    for (uint32_t i = 0; i < n_img && !rs.bad; i++)
        for (uint32_t t = 0; t < NTASKS && !rs.bad; t++) {
            if (!imgs[i].tasks[t].defined) continue;
            uint32_t k = 0;
            while (k < imgs[i].n_syms && !(imgs[i].syms[k].type == WSE_SYM_TASK && imgs[i].syms[k].value == t)) k++;
            if (k == imgs[i].n_syms) rd_fail(&rs, "image %u: task %u has no task symbol (wse-as names every task)", i, t);
        }

    /* ---- EXPANSIONS (read before LINES, which refers to them) ---- */
    rd_t rx = { data, soff[6], send_[6], "EXPANSIONS", err, sizeof err, rp.bad || rs.bad };
    uint32_t n_sites = rx.bad ? 0 : rd_count(&rx, 24, "expansion");
    site_t *sites = (site_t *)arena_alloc(&arena, sizeof(site_t) * ((size_t)n_sites + 1));
    if (!sites) { free(grid); wse__arena_free(arena); wse__set_msg(f, "out of memory"); return WSE_NOMEM; }
    for (uint32_t k = 1; k <= n_sites && !rx.bad; k++) {
        uint32_t m = rd_u32(&rx), file = rd_u32(&rx), line = rd_u32(&rx), col = rd_u32(&rx), parent = rd_u32(&rx),
                 it = rd_u32(&rx);
        if (rx.bad) break;
        const char *mn = str_at(&rx, strcopy, strlen_, m);
        if (rx.bad) break;
        if (mn[0] && !is_ident(mn)) { rd_fail(&rx, "the name %s is not an identifier", mn); break; }
        if (mn[0] && it) { rd_fail(&rx, "record %u (macro '%s') has iteration %u, not 0", k, mn, it); break; }
        const char *fn = rx.bad ? "" : str_at(&rx, strcopy, strlen_, file);
        if (rx.bad) break;
        if (!fn[0]) { rd_fail(&rx, "record %u (macro '%s') has no file", k, mn); break; }
        if (parent >= k) { rd_fail(&rx, "record %u names parent %u, which is not an earlier record", k, parent); break; }
        site_t *st = &sites[k - 1];
        st->macro = mn; st->file = fn; st->line = line; st->col = col; st->parent = parent; st->iteration = it;
    }
    if (!rx.bad && rx.pos != rx.end) rd_fail(&rx, "unexpected bytes at the end of the section");

    /* ---- LINES ---- */
    rd_t rl = { data, soff[5], send_[5], "LINES", err, sizeof err, rx.bad };
    uint32_t n_lines = (rp.bad || rs.bad || rx.bad) ? 0 : rd_count(&rl, 24, "line");
    size_t line_start = rl.pos;
    for (uint32_t k = 0; k < n_lines && !rl.bad; k++) {
        uint32_t im = rd_u32(&rl), pc = rd_u32(&rl), file = rd_u32(&rl);
        rd_u32(&rl); rd_u32(&rl); rd_u32(&rl);
        if (rl.bad) break;
        if (im >= n_img || pc >= imgs[im].n_code) { rd_fail(&rl, "image %u pc %u does not exist", im, pc); break; }
        str_at(&rl, strcopy, strlen_, file);
        imgs[im].n_lines++;
    }
    for (uint32_t i = 0; i < n_img && !rl.bad && !rx.bad && !rs.bad && !rp.bad; i++) {
        imgs[i].lines = (line_t *)arena_alloc(&arena, sizeof(line_t) * (imgs[i].n_lines + 1));
        if (!imgs[i].lines) { free(grid); wse__arena_free(arena); wse__set_msg(f, "out of memory"); return WSE_NOMEM; }
        imgs[i].n_lines = 0;
    }
    if (!rl.bad && !rx.bad && !rs.bad && !rp.bad) {
        rl.pos = line_start;
        for (uint32_t k = 0; k < n_lines; k++) {
            uint32_t im = rd_u32(&rl), pc = rd_u32(&rl), file = rd_u32(&rl), line = rd_u32(&rl), col = rd_u32(&rl),
                     via = rd_u32(&rl);
            image_t *img = &imgs[im];
            if (img->n_lines && img->lines[img->n_lines - 1].pc >= pc) { rd_fail(&rl, "image %u: entries are not sorted by pc", im); break; }
            if (!strcopy[file] && (line || col)) {
                rd_fail(&rl, "image %u pc %u: a record with no file has line and column 0, not %u:%u", im, pc, line, col);
                break;
            }
            if (via > n_sites || (via && !strcopy[file])) {
                rd_fail(&rl, "image %u pc %u: expansion %u does not exist (%u records) or the record has no file", im, pc, via, n_sites);
                break;
            }
            line_t *l = &img->lines[img->n_lines++];
            l->pc = pc; l->file = strcopy + file; l->line = line; l->col = col; l->via = via;
        }
        if (!rl.bad && rl.pos != rl.end) rd_fail(&rl, "unexpected bytes at the end of the section");
    }
    if (rp.bad || rs.bad || rx.bad || rl.bad) { free(grid); wse__arena_free(arena); wse__set_msg(f, "%s", err); return WSE_LOAD_ERROR; }

    /* ---- commit: build PE state ---- */
    wse__free_program(f);
    f->arena = arena;
    f->images = imgs; f->n_images = n_img;
    f->strtab = strcopy; f->strtab_len = strlen_;
    f->sites = sites; f->n_sites = n_sites;
    uint64_t n_place = 0, n_placed = 0;     /* (for the out-of-memory message) */
    for (size_t k = 0; k < (size_t)oh * ow; k++) n_place += grid[k] != UINT32_MAX;
    for (uint32_t y = 0; y < oh; y++)
        for (uint32_t x = 0; x < ow; x++) {
            uint32_t im = grid[(size_t)y * ow + x];
            if (im == UINT32_MAX) continue;
            n_placed++;
            image_t *img = &imgs[im];
            /* pe_t and the col_t array are cache-line aligned (their hot fields come first) */
            size_t pe_sz = (sizeof(pe_t) + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
            size_t cols_sz = ((img->n_routes ? img->n_routes : 1) * sizeof(col_t) + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
            pe_t *p = (pe_t *)aligned_alloc(CACHE_LINE, pe_sz);
            uint16_t *mem = (uint16_t *)calloc(words, sizeof(uint16_t));
            col_t *cols = (col_t *)aligned_alloc(CACHE_LINE, cols_sz);
            if (p) memset(p, 0, pe_sz);
            if (cols) memset(cols, 0, cols_sz);
            if (!p || !mem || !cols) {
                free(p); free(mem); free(cols); free(grid);
                wse__free_program(f);
                /* what the whole placement needs: SRAM and pe_t per PE (and the routes) */
                double per = (double)words * 2 + (double)pe_sz, total = per * (double)n_place;
                wse__set_msg(f, "out of host memory while placing PE (%u,%u), PE %llu of the %llu the object "
                             "places: each takes %.1f KiB of host memory (its %.0f KiB of SRAM and its "
                             "state), %.2f GiB in all; free memory, or place fewer PEs", x, y,
                             (unsigned long long)n_placed, (unsigned long long)n_place, per / 1024.0,
                             (double)words * 2 / 1024.0, total / (1024.0 * 1024.0 * 1024.0));
                return WSE_NOMEM;
            }
            p->img = img; p->x = x; p->y = y; p->idx = y * f->W + x;
            p->mem = mem; p->cols = cols; p->ncols = img->n_routes;
            p->task = -1;
            memset(p->cslot, -1, sizeof p->cslot);
            for (uint32_t k = 0; k < img->n_routes; k++) {
                route_t *rt = &img->routes[k];
                col_t *c = &cols[k];
                c->color = rt->color; c->npos = rt->npos; c->iqid = rt->iq; c->oqid = rt->oq;
                memcpy(c->rx, rt->rx, 4); memcpy(c->tx, rt->tx, 4);
                c->rb.cap = (uint8_t)f->P.router_depth;
                c->iq.cap = f->P.iq_depth[rt->iq];
                c->oq.cap = f->P.oq_depth[rt->oq];
                p->cslot[rt->color] = (int8_t)k;
            }
            q_init_cols(cols, img->n_routes);
            for (uint32_t k = 0; k < img->n_code; k++) {
                mem[2 * k] = (uint16_t)(img->dec[k].word & 0xffff);
                mem[2 * k + 1] = (uint16_t)(img->dec[k].word >> 16);
            }
            for (uint32_t k = 0; k < img->n_chunks; k++)
                memcpy(mem + img->chunks[k].addr, img->chunks[k].w, (size_t)img->chunks[k].n * 2);
            for (int t = 0; t < NTASKS; t++) {
                if (!img->tasks[t].defined) continue;
                if (img->tasks[t].flags & 1) p->activated |= 1ull << t;
                if (img->tasks[t].flags & 2) p->blocked |= 1ull << t;
            }
            p->sched_t = NEVER; p->visit_t = NEVER;
            f->pes[p->idx] = p;
            f->n_placed++;
        }
    free(grid);
    f->loaded = 1;
    return WSE_OK;
}
