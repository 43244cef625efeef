#!/usr/bin/env python3
"""A mutation survey of the emulator's C core (csrc/wse_core.c, csrc/wse_load.c).

The project's standard is that every test asserts something that could fail. This script shows
it for the C core: each mutant below is one small, deliberate bug (an exact snippet of a C file
and its replacement). For each one the script copies the Python packages and csrc/ to a
temporary directory the way csrc/build_sanitized.sh does, applies the mutant there, builds the
core with the ffibuilder of csrc/build_core.py, and runs a chosen subset of the tests against
that copy (its directory first on PYTHONPATH, CI=true for the derandomized hypothesis profile).
A failing subset kills the mutant; a passing one lets it survive. A build failure is an invalid
mutant (reported, not counted). A mutant marked `equivalent` carries the reason it cannot change
behaviour; it is still built and run, and a test that kills it proves the mark wrong.

    python tests/mutation/core_mutants.py                 # every mutant
    python tests/mutation/core_mutants.py --only NAME     # one (repeat --only for more)
    python tests/mutation/core_mutants.py --list          # the mutants, without running them
    python tests/mutation/core_mutants.py --json          # one JSON object at the end

Before any mutant runs, every snippet must occur exactly once in its file (a stale list fails
loudly), and the unmutated copy must pass every subset the chosen mutants use. Exit status: 0
when every mutant not marked equivalent was killed and no equivalent one was; 1 otherwise; 2
when the list is stale or the unmutated copy fails.

Not collected by pytest (no test_ prefix): it builds the core and runs a test subset once per
mutant, which takes tens of minutes on a shared 2-core machine.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("isa", "asm", "emu", "kernels", "cli")
CORE = "csrc/wse_core.c"
LOAD = "csrc/wse_load.c"
T = "tests/emu/"

# test subsets (each run with -x, so a killed mutant usually stops in seconds)
ROUTER = (T + "test_timing_rules.py", T + "test_core_fabric.py", T + "test_differential.py",
          T + "test_differential_found.py")
SCHED = (T + "test_timing_rules.py", T + "test_core_semantics.py", T + "test_differential.py",
         T + "test_differential_found.py")
TENSOR = (T + "test_core_semantics.py", T + "test_timing_rules.py", T + "test_core_fp.py",
          T + "test_differential.py", T + "test_differential_found.py")
HOST = (T + "test_host_api_errors.py", T + "test_api_host.py", T + "test_c_api.py",
        T + "test_host_api_agreement.py")
LOADER = (T + "test_core_load.py", T + "test_loader_agreement.py")
FAULTS = (T + "test_core_semantics.py", T + "test_fault_fields.py", T + "test_differential.py")
STATS = (T + "test_core_fabric.py", T + "test_api_host.py", T + "test_timing_rules.py",
         T + "test_differential.py")
HANG = (T + "test_timing_rules.py", T + "test_hang_report.py", T + "test_reference.py")


@dataclasses.dataclass(frozen=True)
class Mutant:
    name: str
    file: str             # relative to the repository
    old: str              # must occur exactly once in file
    new: str
    why: str              # what the mutant breaks, and why that matters
    tests: tuple[str, ...]
    equivalent: str = ""  # non-empty: why the mutant cannot change behaviour


M = Mutant
MUTANTS: list[Mutant] = [
    # ---- router timing -------------------------------------------------------------------
    M("hop_latency_plus_one", CORE,
      "const uint32_t hop = f->P.hop_latency;",
      "const uint32_t hop = f->P.hop_latency + 1;",
      "a wavelet takes hop_latency (2) cycles per router-to-router hop and per host injection: "
      "every cycle count of a multi-PE kernel rests on it", ROUTER),
    M("router_buffer_one_deeper", CORE,
      "if (ncs[pi] && ncs[pi]->rb.n >= ncs[pi]->rb.cap) full = 1;",
      "if (ncs[pi] && ncs[pi]->rb.n > ncs[pi]->rb.cap) full = 1;",
      "backpressure: a full neighbour rb[c] (router_depth wavelets) must stall the sender; off "
      "by one it holds router_depth + 1", ROUTER),
    M("send_oq_one_deeper", CORE,
      "if (cs->oq.n >= cs->oq.cap) return 0;",
      "if (cs->oq.n > cs->oq.cap) return 0;",
      "send must wait while oq[c] holds oq_depth wavelets; off by one the queue grows past its "
      "depth", ROUTER),
    M("colors_not_rotated", CORE,
      "uint32_t rot = (uint32_t)(t % NCOLORS);",
      "uint32_t rot = 0;",
      "colors are visited from (t mod 24) on: two colors sharing a link alternate instead of "
      "the lower color always winning", ROUTER),
    M("link_used_twice", CORE,
      "if (full || (tx & used)) {",
      "if (full) {",
      "one wavelet per link per direction per cycle: without the check two colors leave "
      "through the same port in one cycle", ROUTER),
    M("toggle_starts_with_oq", CORE,
      "(cs->toggle ? &cs->oq : &cs->rb)",
      "(cs->toggle ? &cs->rb : &cs->oq)",
      "when rb[c] and oq[c] both have a ready head the router alternates starting with rb", ROUTER),
    M("switch_never_advances", CORE,
      "if (w.ctrl) cs->pos = (uint8_t)((cs->pos + 1) % cs->npos);",
      "if (0 && w.ctrl) cs->pos = (uint8_t)((cs->pos + 1) % cs->npos);",
      "a control wavelet advances the route's switch position after it leaves", ROUTER),
    M("control_task_starts_a_cycle_late", CORE,
      "    p->activated |= 1ull << tid;\n    sched(f, p, t);\n}",
      "    p->activated |= 1ull << tid;\n    sched(f, p, t + 1);\n}",
      "a control wavelet pushed into iq sets the activated bit and the idle CE picks the task in "
      "the same cycle (one cycle before a data task)", ROUTER,
      equivalent="activate_ctrl is called only from router_step's RAMP branch for a control "
      "wavelet, and that branch goes on (unless the activation faulted) to `if ((from_oq || "
      "w.ctrl) && p->mstate != M_RUN) sched(f, p, t)`, which schedules the idle CE (any state "
      "but M_RUN) at t anyway; a CE in M_RUN cannot pick a task before its run ends, and its "
      "own events are already scheduled. The extra event at t + 1 is a visit that finds "
      "nothing new (visits are idempotent). So the sched in activate_ctrl is redundant: the "
      "same-cycle pick is pinned by tests/emu/test_timing_rules.py::test_host_wavelet_to_task, "
      "which this mutant cannot fail."),
    M("control_task_id_five_bits", CORE,
      "uint32_t tid = payload & 63;",
      "uint32_t tid = payload & 31;",
      "a control wavelet activates task payload & 63: tasks 32..63 must be reachable", ROUTER),
    # ---- task scheduling -----------------------------------------------------------------
    M("task_switch_plus_one", CORE,
      "p->next_t = t + f->P.task_switch;",
      "p->next_t = t + f->P.task_switch + 1;",
      "a task's first instruction runs task_switch (1) cycles after it is picked", SCHED),
    M("highest_task_first", CORE,
      "*tid = __builtin_ctzll(cand);",
      "*tid = 63 - __builtin_clzll(cand);",
      "the idle CE picks the runnable task with the lowest id", SCHED),
    M("blocked_local_task_runs", CORE,
      "uint64_t cand = p->activated & img->local_mask & ~p->blocked;",
      "uint64_t cand = p->activated & img->local_mask;",
      "a blocked task is not runnable even when activated", SCHED),
    M("blocked_data_task_runs", CORE,
      "uint64_t dm = img->data_mask & ~p->blocked;",
      "uint64_t dm = img->data_mask;",
      "a blocked data task is not runnable even when its iq holds a wavelet", SCHED),
    # ---- tensor ops: costs and semantics -------------------------------------------------
    M("strided_op_full_width", CORE,
      "uint32_t w = unit ? f->P.simd[in->cls] : 1;",
      "uint32_t w = f->P.simd[in->cls];",
      "a tensor op with a non-unit-stride memory operand runs at width 1", TENSOR),
    M("recurrence_lag_in_words", CORE,
      "uint32_t lag = es == ed ? (d - s) / ed : 1;",
      "uint32_t lag = es == ed ? (d - s) : 1;",
      "a recurrence's lag L is in elements: for fp32 a lag of 1 element is 2 words", TENSOR),
    M("in_place_op_is_a_recurrence", CORE,
      "if (s >= d || (uint64_t)s + n * es <= d) return cap;",
      "if (s > d || (uint64_t)s + n * es <= d) return cap;",
      "a source at the destination's own address (an in-place op) is not a recurrence and keeps "
      "the full width", TENSOR),
    M("datapath_not_shared", CORE,
      "uint64_t start = p->dp_free > t ? p->dp_free : t;",
      "uint64_t start = t;",
      "memory-only tensor ops share one SIMD datapath per PE: a second op waits for the first",
      TENSOR),
    M("nan_not_canonical", CORE,
      "static inline uint32_t canon_s(float r) { return r != r ? 0x7fc00000u : fb(r); }",
      "static inline uint32_t canon_s(float r) { return fb(r); }",
      "every fp32 NaN result is the quiet NaN 0x7fc00000 (the host's NaN payloads and signs "
      "must not leak into results)", TENSOR),
    M("strided_fmachs_fused", CORE,
      "case WSE_OP_FMACHS: { float pr = hf(x1) * bf(rs); return canon_s(bf(x0) + pr); }",
      "case WSE_OP_FMACHS: { return canon_s(fmaf(hf(x1), bf(rs), bf(x0))); }",
      "mac rounds the product to fp32 before the add (not fused); this is the per-element path "
      "(strided operands), beside the contiguous fast loops", TENSOR),
    M("contiguous_fmacs_fused", CORE,
      "float pr = B[i] * s;\n        D[i] = A[i] + pr;",
      "D[i] = fmaf(B[i], s, A[i]);",
      "the vectorised fmacs loop must round like the element-wise definition (not fused)", TENSOR),
    M("u32_elements_are_16_bit", CORE,
      "static inline uint32_t esize(int t) { return (t == WSE_T_S || t == WSE_T_U32) ? 2 : 1; }",
      "static inline uint32_t esize(int t) { return (t == WSE_T_S) ? 2 : 1; }",
      "u32 elements are two words, like fp32", TENSOR),
    M("mem4d_length_one_dim_not_unit", CORE,
      "if (d->len[k] > 1 && d->stride[k] != run) return 0;",
      "if (d->stride[k] != run) return 0;",
      "a mem4d is one contiguous run whatever the stride of a dimension of length 1: it keeps "
      "the full SIMD width", TENSOR),
    M("fabin_16_bit_keeps_high_half", CORE,
      "return e == 2 ? payload : (payload & 0xffffu);",
      "return payload;",
      "a 16-bit element read from the fabric is the low half of the payload: the high half must "
      "not reach the op (e.g. a shift count)", TENSOR),
    M("fabout_16_bit_not_masked", CORE,
      "fab_push(f, p, cout, ed == 2 ? r : (r & 0xffffu), t);",
      "fab_push(f, p, cout, r, t);",
      "a 16-bit fabout element is zero-extended into its wavelet", TENSOR,
      equivalent="every result of a 16-bit destination type is already below 0x10000 when it "
      "gets here: elem() masks every integer op with & 0xffff or computes it from 16-bit values "
      "(and16_vv of two 16-bit inputs: memory loads are 16-bit and fab_take masks a 16-bit "
      "fabin element), the fp16 ops return to_h() (16 bits), and the generic path is the only "
      "one that reaches a 16-bit fabout (the specialised fab_step_k paths are 32-bit only). So "
      "the mask never changes a value."),
    # ---- microthreads and fabric ops -----------------------------------------------------
    M("async_fabric_op_starts_at_issue", CORE,
      "op->start_t = t + 1;\n        p->ut_mask",
      "op->start_t = t;\n        p->ut_mask",
      "an async fabric op runs on its microthread from the cycle after its issue", TENSOR),
    M("async_memory_op_finishes_late", CORE,
      "op->finish_t = t + cyc; op->start_t = start;",
      "op->finish_t = t + cyc + 1; op->start_t = start;",
      "an async memory-only op completes (activate/unblock) max(1, ceil(n/width)) cycles after "
      "its start on the datapath", TENSOR),
    M("fabric_op_finishes_late", CORE,
      "    if (fab_step_i(f, p, op, t)) {\n        if (op->done == op->n) op->finish_t = t + 1;",
      "    if (fab_step_i(f, p, op, t)) {\n        if (op->done == op->n) op->finish_t = t + 2;",
      "a synchronous fabric op finishes the cycle after its last element", TENSOR),
    M("longer_source_accepted", CORE,
      "        if (m != n) {",
      "        if (m < n) {",
      "every DSD source must have the destination's element count: a longer source is a fault "
      "too, not silently cut", FAULTS),
    # ---- bounds checks: host API, instructions, loader -----------------------------------
    M("mem_read_one_word_past_sram", CORE,
      "if ((uint64_t)addr + n > f->sram_words) return bad_arg(f, \"words [%u, %llu) are outside SRAM [0, %u)\", addr, "
      "(unsigned long long)addr + n, f->sram_words);\n    if (n) memcpy(out, p->mem + addr",
      "if ((uint64_t)addr + n > f->sram_words + 1u) return bad_arg(f, \"words [%u, %llu) are outside SRAM [0, %u)\", addr, "
      "(unsigned long long)addr + n, f->sram_words);\n    if (n) memcpy(out, p->mem + addr",
      "wse_mem_read must refuse a range that ends past SRAM (else it reads host memory beyond "
      "the PE's)", HOST),
    M("pe_x_equal_to_width_accepted", CORE,
      "    if (x >= f->W || y >= f->H) return bad_arg(f, \"PE (%u,%u) is outside the %ux%u fabric\", x, y, f->W, f->H);\n"
      "    pe_t *p = f->pes[(size_t)y * f->W + x];\n    if (!p) {",
      "    if (x > f->W || y >= f->H) return bad_arg(f, \"PE (%u,%u) is outside the %ux%u fabric\", x, y, f->W, f->H);\n"
      "    pe_t *p = f->pes[(size_t)y * f->W + x];\n    if (!p) {",
      "a host call naming PE (W, y) must be refused (else it reaches PE (0, y+1), or past the "
      "array on the last row)", HOST),
    M("symbol_rect_one_word_more", CORE,
      "if ((uint64_t)words > (uint64_t)s->count * e) {",
      "if ((uint64_t)words > (uint64_t)s->count * e + 1) {",
      "a rectangle transfer may not move more words than the symbol has", HOST),
    M("tensor_span_one_word_past_sram", CORE,
      "return lo >= 0 && hi + (int64_t)e <= (int64_t)f->sram_words && !(e == 2 && (base & 1))",
      "return lo >= 0 && hi + (int64_t)e <= (int64_t)f->sram_words + 1 && !(e == 2 && (base & 1))",
      "a tensor operand whose last element lies one word past SRAM must fault before anything "
      "is written", FAULTS),
    M("load_one_word_past_sram", CORE,
      "if (a < 0 || a + (int64_t)e > (int64_t)f->sram_words) {",
      "if (a < 0 || a + (int64_t)e > (int64_t)f->sram_words + 1) {",
      "ld16/st16 at the first word past SRAM must fault", FAULTS),
    M("loader_chunk_past_mem_words", LOAD,
      "if (addr < 2ull * n_code || (uint64_t)addr + n > img->mem_words) {",
      "if (addr < 2ull * n_code || (uint64_t)addr + n > img->mem_words + 1) {",
      "a data chunk must lie inside the image's memory [2*n_code, mem_words)", LOADER),
    M("loader_jump_to_code_end", LOAD,
      "if ((d->op == WSE_OP_JMP || d->op == WSE_OP_CALL) && (uint32_t)d->imm >= n_code)",
      "if ((d->op == WSE_OP_JMP || d->op == WSE_OP_CALL) && (uint32_t)d->imm > n_code)",
      "a jmp/call target equal to the code length is outside the code: a load error, not a "
      "run-time fault", LOADER),
    M("loader_symbol_one_word_past_sram", LOAD,
      "if ((uint64_t)value + (uint64_t)count * e > words || (e == 2 && value % 2))",
      "if ((uint64_t)value + (uint64_t)count * e > words + 1 || (e == 2 && value % 2))",
      "a data symbol must lie inside SRAM (the host API trusts it for its transfers)", LOADER),
    # ---- statistics, watchdog ------------------------------------------------------------
    M("skipped_cycles_stalls_not_counted", CORE,
      "for (size_t i = 0; i < f->stall_n; i++) f->pes[f->stall_pes[i]]->st_stalls += rep;",
      "(void)rep;",
      "when time jumps over cycles in which routers wait for a port, their stalls are still "
      "counted", STATS,
      equivalent="dead code: stall_pes only lists routers that stalled because a tx port was "
      "already used in this cycle, `used` only gets bits from a move in the same router visit, "
      "and every move sets f->happened, so the loop `continue`s to t + 1 before the skip; when "
      "time does jump (target > t + 1) nothing moved and stall_n is 0. Stalls of skipped "
      "cycles are those of parked colors, counted by unpark (parked_stalls_one_short below)."),
    M("parked_stalls_one_short", CORE,
      "uint64_t end = f->t + (uint64_t)visited_now(f, p, c);",
      "uint64_t end = f->t;",
      "a parked color owes one stall per cycle up to the last one whose router visit has "
      "happened: the lazily counted stalls must equal the per-cycle count", STATS + (T + "test_congestion.py",)),
    M("instructions_counted_past_the_cycle", CORE,
      "if (own >= t) break;",
      "if (own > t) break;",
      "a paused run counts only the instructions of a run issued before the pause cycle", STATS),
    M("watchdog_a_cycle_late", CORE,
      "if (max_cycles && t >= max_cycles) {",
      "if (max_cycles && t > max_cycles) {",
      "the watchdog fires when the cycle counter reaches max_cycles", HANG),
    M("hang_reported_a_cycle_late", CORE,
      "nt = (m > t ? m : t) + 1;",
      "nt = (m > t ? m : t) + 2;",
      "a hang is reported one cycle after the last buffered wavelet became ready (or the last "
      "cycle in which something happened): HangError.cycle is part of the contract", HANG),
]


def check_list(mutants: list[Mutant]) -> list[str]:
    """Problems with the list: snippets that do not occur exactly once, duplicate names."""
    errs, seen = [], set()
    for m in mutants:
        if m.name in seen:
            errs.append(f"{m.name}: the name is used twice")
        seen.add(m.name)
        path = ROOT / m.file
        if not path.is_file():
            errs.append(f"{m.name}: {m.file} does not exist")
            continue
        k = path.read_text().count(m.old)
        if k != 1:
            errs.append(f"{m.name}: the snippet occurs {k} times in {m.file} (must be exactly once)")
        if m.old == m.new:
            errs.append(f"{m.name}: the replacement is the snippet itself")
        for t in m.tests:
            if not (ROOT / t.split("::")[0]).is_file():
                errs.append(f"{m.name}: no test file {t}")
    return errs


def copy_tree(out: Path) -> None:
    """The packages into out/wse, csrc into out/csrc (as csrc/build_sanitized.sh does)."""
    (out / "wse").mkdir(parents=True)
    for pkg in PACKAGES:
        if (ROOT / pkg).is_dir():
            shutil.copytree(ROOT / pkg, out / "wse" / pkg,
                            ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    shutil.copytree(ROOT / "csrc", out / "csrc", ignore=shutil.ignore_patterns("__pycache__"))


BUILD = """
import sys
sys.path.insert(0, 'csrc')
from build_core import ffibuilder
ffibuilder.compile(tmpdir='.', verbose=False)
"""


def build(out: Path) -> tuple[bool, str]:
    for so in (out / "wse" / "emu").glob("_core*.so"):
        so.unlink()
    env = {k: v for k, v in os.environ.items() if k != "WSE_SANITIZE"}
    # cwd=out: build_core.py names its sources relative to the current directory (csrc/...)
    r = subprocess.run([sys.executable, "-c", BUILD], cwd=out, env=env, capture_output=True, text=True)
    return r.returncode == 0, (r.stdout + r.stderr)[-3000:]


def test_env(out: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(out) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["CI"] = "true"                 # the derandomized hypothesis profile (tests/conftest.py)
    env.pop("HYPOTHESIS_PROFILE", None)
    env.pop("WSE_SANITIZE", None)
    return env


def core_file(out: Path) -> str:
    r = subprocess.run([sys.executable, "-c", "import wse.emu._core as c; print(c.__file__)"],
                       cwd=ROOT, env=test_env(out), capture_output=True, text=True)
    return r.stdout.strip() or r.stderr.strip()[-500:]


def run_tests(out: Path, tests: tuple[str, ...], timeout: float) -> tuple[str, float, str]:
    """('pass' | 'fail' | 'timeout', seconds, the tail of the output)."""
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    t0 = time.monotonic()
    try:
        r = subprocess.run(cmd, cwd=ROOT, env=test_env(out), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        tail = (e.stdout or b"")[-1500:]
        return "timeout", time.monotonic() - t0, tail.decode(errors="replace") if isinstance(tail, bytes) else tail
    if r.returncode == 0:
        return "pass", time.monotonic() - t0, ""
    if r.returncode < 0:                   # the core crashed the test process
        return f"crash (signal {-r.returncode})", time.monotonic() - t0, r.stdout[-1500:]
    return "fail", time.monotonic() - t0, r.stdout + r.stderr


def first_failure(text: str) -> str:
    """The first FAILED/ERROR line of pytest's summary (-ra), without its message."""
    for line in text.splitlines():
        if line.startswith("FAILED ") or line.startswith("ERROR "):
            return line.split(" - ")[0]
    return ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", default=[], metavar="NAME", help="run this mutant (repeatable)")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--json", action="store_true", help="print one JSON object at the end")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds per test run, after which the mutant counts as killed (a core that loops "
                         "for ever); default: 3 times the unmutated run of all the subsets, at least 180")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args(argv)

    errs = check_list(MUTANTS)
    if errs:
        print("the mutant list is stale:\n  " + "\n  ".join(errs), file=sys.stderr)
        return 2
    chosen = MUTANTS
    if args.only:
        names = {m.name for m in MUTANTS}
        unknown = [n for n in args.only if n not in names]
        if unknown:
            print(f"no mutant named {', '.join(unknown)}", file=sys.stderr)
            return 2
        chosen = [m for m in MUTANTS if m.name in args.only]
    if args.list:
        for m in chosen:
            print(f"{m.name:38s} {m.file:16s} {'equivalent' if m.equivalent else ''}")
        return 0

    log = (lambda *a: print(*a, file=sys.stderr, flush=True)) if args.json else (lambda *a: print(*a, flush=True))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))     # (a kill still removes the copy)
    tmp = Path(tempfile.mkdtemp(prefix="wse-core-mutants-"))
    out = tmp / "tree"
    results = []
    try:
        copy_tree(out)
        ok, msg = build(out)
        if not ok:
            log("the unmutated core does not build:\n" + msg)
            return 2
        where = core_file(out)
        if not where.startswith(str(out)):
            log(f"the tests would not import the copied core: wse.emu._core is {where}")
            return 2
        subset = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
        status, secs, tail = run_tests(out, subset, args.timeout or 3600)
        log(f"unmutated core: {status} ({secs:.0f} s, {len(subset)} test files)")
        if status != "pass":
            log(tail[-3000:])
            return 2
        timeout = args.timeout or max(180.0, 3 * secs)     # (each subset is part of that run)
        for m in chosen:
            src = (ROOT / m.file).read_text()
            dst = out / m.file
            dst.write_text(src.replace(m.old, m.new, 1))
            t0 = time.monotonic()
            ok, msg = build(out)
            if not ok:
                res = {"name": m.name, "result": "invalid", "detail": msg.strip().splitlines()[-1:]}
            else:
                status, secs, tail = run_tests(out, m.tests, timeout)
                if status == "pass":
                    res = {"name": m.name, "result": "equivalent" if m.equivalent else "survived"}
                else:
                    killer = first_failure(tail) if status == "fail" else status
                    killer = killer or (tail.strip().splitlines() or ["fail"])[-1][:200]
                    res = {"name": m.name, "result": "killed", "by": killer,
                           "wrongly_marked_equivalent": bool(m.equivalent)}
            res["seconds"] = round(time.monotonic() - t0, 1)
            dst.write_text(src)
            results.append(res)
            extra = res.get("by", "") + ("  (MARKED EQUIVALENT)" if res.get("wrongly_marked_equivalent") else "")
            log(f"{res['result']:10s} {m.name:38s} {res['seconds']:6.1f} s  {extra}")
    finally:
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    count = {k: sum(r["result"] == k for r in results) for k in ("killed", "survived", "equivalent", "invalid")}
    wrong_eq = [r["name"] for r in results if r.get("wrongly_marked_equivalent")]
    summary = (f"{len(results)} mutants: {count['killed']} killed, {count['survived']} survived, "
               f"{count['equivalent']} equivalent, {count['invalid']} invalid")
    if args.json:
        print(json.dumps({"mutants": len(results), **count, "wrongly_marked_equivalent": wrong_eq,
                          "results": results}, indent=1))
    else:
        print(summary)
        for r in results:
            if r["result"] == "survived":
                print(f"  survived: {r['name']}")
        for n in wrong_eq:
            print(f"  killed but marked equivalent: {n}")
    return 0 if not count["survived"] and not wrong_eq else 1


if __name__ == "__main__":
    sys.exit(main())
