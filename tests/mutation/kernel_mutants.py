"""Mutation survey of the kernel library (kernels/, not kernels/llm): do the tests notice?

    python tests/mutation/kernel_mutants.py [--only NAME[,NAME...]] [--json] [--list]

Each mutant below is one deliberate bug, given as data: edits (file, an exact snippet that
must occur exactly once in it, its replacement), a name, why it matters, and the checks that
should catch it (a pytest subset of tests/kernels/, and ``python -m wse.kernels.table
--check`` where the mutant changes cycles rather than values). For every mutant the runner
copies the Python packages into a temporary folder the way csrc/build_sanitized.sh does
(isa/ asm/ emu/ cli/ kernels/ into OUT/wse, OUT first on PYTHONPATH; the already-built core
.so is copied, not rebuilt), applies the edits to the copy, and runs the checks against it
with the tests of this checkout (CI=true: the derandomized hypothesis profile). First it
runs the same checks on an unmutated copy, which must pass.

Outcomes: killed (a check failed), survived (every check passed), equivalent (survived, and
the entry explains why it cannot change behaviour), invalid (the mutated source is malformed:
Python does not compile or import it, or the assembler does not parse it, so its kill says
nothing about the tests; an SRAM refusal or a kernel's own .error is a kill). A check that
runs past TIMEOUT counts as a kill (a hang the emulator did not report). The exit status is 1 if any mutant survived, or if an `equivalent` one was killed (the claim is
wrong), else 0.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("isa", "asm", "emu", "cli", "kernels")
PYTEST = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
TABLE = "table"          # in a mutant's checks: python -m wse.kernels.table --check
TIMEOUT = 900            # seconds per check: a hang the emulator did not report is a kill

T_MATH = "tests/kernels/test_math.py"
T_EW = "tests/kernels/test_elementwise.py"
T_NS = "tests/kernels/test_norm_softmax.py"
T_GEMV = "tests/kernels/test_gemv.py"
T_GEMM = "tests/kernels/test_gemm.py"
T_COLL = "tests/kernels/test_collectives.py"
T_ATTN = "tests/kernels/test_attention.py"
T_LIM = "tests/kernels/test_limits.py"
T_DRV = "tests/kernels/test_driver_errors.py"


@dataclass
class Mutant:
    name: str
    why: str
    edits: list                 # [(file relative to the repository root, old, new), ...]
    checks: list                # pytest arguments (one run, -x; a -k applies to every path)
                                # and/or TABLE
    equivalent: str = ""        # why it cannot change behaviour (expected to survive)


def sel(path: str, k: str) -> list:
    return [path, "-k", k]


MUTANTS = [
    # ---- kernels/lib math: exp, rcp, rsqrt, sincos --------------------------------------
    Mutant("exp-coef-model-too",
           "the same wrong coefficient (P0, x10) in exp.inc AND its bit-exact model: the "
           "bit-for-bit test cannot see it, only the error bound against float64",
           [("kernels/lib/exp.inc", ".f32 1.9875691500E-4, 1.3981999507E-3",
             ".f32 1.9875691500E-3, 1.3981999507E-3"),
            ("kernels/lib/model.py", "EXP_P = [F(1.9875691500e-4)", "EXP_P = [F(1.9875691500e-3)")],
           [T_MATH]),
    Mutant("exp-underflow-flush",
           "exp flushes results that should be subnormal to +0 (threshold -87.34 instead of "
           "-103.97), kernel and model alike",
           [("kernels/lib/exp.inc", ".f32 88.72283935546875, -103.972084,",
             ".f32 88.72283935546875, -87.33654,"),
            ("kernels/lib/model.py", "EXP_UNDER = F(-103.972084)", "EXP_UNDER = F(-87.33654)")],
           [T_MATH]),
    Mutant("rcp-newton-fewer",
           "one Newton step fewer in rcp (kernel and model): the exact last step then starts "
           "from ~2^-8 instead of ~2^-16 and cannot reach 0.5 ulp",
           [("kernels/lib/rcp.inc",
             "    mulf r5, r2, r3                   ; Newton 2\n    subf r5, r7, r5\n    macf r3, r3, r5\n",
             ""),
            ("kernels/lib/model.py",
             "        for _ in range(2):\n            d = ONE - a * y",
             "        for _ in range(1):\n            d = ONE - a * y")],
           [T_MATH]),
    Mutant("rcp-prescale-62",
           "rcp pre-scales |x| < 2^-65 instead of |x| < 2^-64",
           [("kernels/lib/rcp.inc", "    addi r5, r0, 63\n", "    addi r5, r0, 62\n")],
           [T_MATH],
           equivalent="scaling by 2^64 is exact and commutes with every rounding while all "
                      "intermediates stay normal; for |x| in [2^-65, 2^-64) without it: a, y "
                      "~ 2^65, the splits' parts >= 2^-78 and the products ~1: all normal, so "
                      "the unscaled path gives the same bits"),
    Mutant("rsqrt-no-last-step",
           "rsqrt without its exact last step (kernel and model): two plain Newton steps in "
           "fp32 stop short of 0.5 ulp",
           [("kernels/lib/rsqrt.inc", "    macf r3, r6, r5                   ; y = y + (0.5y)*e\n", ""),
            ("kernels/lib/model.py", "        y = y + (F(0.5) * y) * e\n", "")],
           [T_MATH]),
    Mutant("sincos-no-p3",
           "the third Cody-Waite term of pi/2 dropped from the reduction, kernel and model: "
           "q * 7.5e-8 of absolute error",
           [("kernels/lib/sincos.inc",
             "    mulf r7, r6, r4\n    subf r2, r2, r7                   ; r\n", ""),
            ("kernels/lib/model.py", "    r = r - qf * PIO2_3\n", "")],
           [T_MATH]),
    # ---- the scalar all-reduce (RMSNorm, softmax, argmax) ---------------------------------
    Mutant("ar1-skip-east-edge",
           "the row reduce ignores the last column: the PE before it does not receive its "
           "partial (routes unchanged)",
           [("kernels/lib/allreduce1.inc",
             ".macro ar1_f32, KIND\n    .if pe_x < rect_w - 1",
             ".macro ar1_f32, KIND\n    .if pe_x < rect_w - 2")],
           [T_NS]),
    Mutant("ar1-argmax-tie-across-pes",
           "the pair all-reduce takes an incoming pair on equal values (the higher index wins "
           "a tie across PEs)",
           [("kernels/lib/allreduce1.inc", "    flt  r6, r2, r3           ; incoming > own",
             "    fle  r6, r2, r3           ; incoming > own")],
           sel(T_NS, "argmax")),
    # ---- argmax ---------------------------------------------------------------------------
    Mutant("argmax-tie-local",
           "the local scan takes equal values (the last of equal values wins), kernel and "
           "model alike: a test that compares only with the model would not notice",
           [("kernels/argmax/argmax.s", "    flt  r4, r2, r3\n    beq  r4, r0, next",
             "    fle  r4, r2, r3\n    beq  r4, r0, next"),
            ("kernels/argmax/model.py", "    i = int(idx[np.argmax(x[idx])])",
             "    i = int(idx[len(idx) - 1 - np.argmax(x[idx][::-1])])")],
           sel(T_NS, "argmax")),
    Mutant("argmax-offset",
           "each PE's first index without the min(IDX, N % PES) term (wrong when N does not "
           "divide evenly)",
           [("kernels/argmax/argmax.s", "OFF = IDX * (N / PES) + min(IDX, N % PES)", "OFF = IDX * (N / PES)")],
           sel(T_NS, "argmax")),
    # ---- RMSNorm, softmax ------------------------------------------------------------------
    Mutant("rmsnorm-no-eps",
           "RMSNorm without its epsilon",
           [("kernels/norm/rmsnorm.s", "    ld32 r3, [consts + 2]             ; EPS\n    addf r2, r2, r3\n",
             "")],
           sel(T_NS, "rmsnorm")),
    Mutant("rmsnorm-dsd-short",
           "the DSDs of x, g and y one element short (off by one): each PE's last y is never "
           "written",
           [("kernels/norm/rmsnorm.s", "    .dsd dx, mem1d, base=x, len=NL\n    .dsd dg, mem1d, base=g, len=NL\n"
             "    .dsd dy, mem1d, base=y, len=NL", "    .dsd dx, mem1d, base=x, len=NL - (NL > 1)\n"
             "    .dsd dg, mem1d, base=g, len=NL - (NL > 1)\n    .dsd dy, mem1d, base=y, len=NL - (NL > 1)")],
           sel(T_NS, "rmsnorm")),
    Mutant("rmsnorm-sumsq-drops-last",
           "the sum of squares skips each PE's last element",
           [("kernels/norm/rmsnorm.s", "    addi r12, r0, NL\n    mov  r2, r0                       ; s = +0",
             "    addi r12, r0, NL - (NL > 1)\n    mov  r2, r0                       ; s = +0")],
           sel(T_NS, "rmsnorm")),
    Mutant("softmax-per-element",
           "the driver's size check counts 3 words per element instead of 4 (x and y): it "
           "lets through vectors that do not fit",
           [("kernels/softmax/run.py", "PER_ELEMENT = 4          # words per element",
             "PER_ELEMENT = 3          # words per element")],
           sel(T_LIM, "softmax")),
    Mutant("softmax-no-max",
           "softmax without the max subtraction: exp(x) / sum exp(x), the same number "
           "unless exp overflows",
           [("kernels/softmax/softmax.s", "    ld32 r2, [r10]\n    subf r2, r2, r13\n", "    ld32 r2, [r10]\n")],
           sel(T_NS, "softmax")),
    Mutant("softmax-max-drops-last",
           "the local max loop skips each PE's last element",
           [("kernels/softmax/softmax.s", "    ld32 r2, [r10]                    ; m = x[0]\n",
             "    ld32 r2, [r10]                    ; m = x[0]\n    addi r12, r12, -1\n    beq  r12, r0, lmax_end\n"),
            ("kernels/softmax/softmax.s", "    bne  r12, r0, lmax\n", "    bne  r12, r0, lmax\nlmax_end:\n")],
           sel(T_NS, "softmax")),
    # ---- element-wise, RoPE, the vector layout --------------------------------------------
    Mutant("silu-no-neg",
           "SiLU computes x / (1 + exp(x)) (the negation dropped)",
           [("kernels/elementwise/silu.s", "    negf r2, r2\n", "")],
           sel(T_EW, "silu")),
    Mutant("layout-extra-to-last",
           "the N mod P extra elements go to the last PEs instead of the first, in spread.inc "
           "and in the host's partition alike (argmax.s and rope.s compute their offsets "
           "themselves)",
           [("kernels/lib/spread.inc", "NL = N / PES + ((IDX < N % PES) ? 1 : 0)",
             "NL = N / PES + ((IDX >= PES - N % PES) ? 1 : 0)"),
            ("kernels/lib/host.py", "    return [(i * q + min(i, r), q + (1 if i < r else 0)) for i in range(p)]",
             "    return [(i * q + max(0, i - (p - r)), q + (1 if i >= p - r else 0)) for i in range(p)]")],
           [T_EW, T_NS]),
    Mutant("rope-pos-limit",
           "the driver accepts positions up to 2^18 - 1, where pos * piece is no longer exact",
           [("kernels/rope/run.py", "POS_LIMIT = 2 ** 17 - 1", "POS_LIMIT = 2 ** 18 - 1")],
           [T_EW, T_DRV]),
    Mutant("spread-no-error",
           "spread.inc no longer refuses N < W*H (the driver still does)",
           [("kernels/lib/spread.inc", '    .error "the vector needs N >= W*H elements: every PE holds at least one"\n', "")],
           [T_LIM]),
    Mutant("rope-rotation-sign",
           "RoPE's first output x0*cos + x1*sin (sign of the rotation)",
           [("kernels/rope/rope.s", "    subf r6, r6, r7                   ; x0*cos - x1*sin",
             "    addf r6, r6, r7                   ; x0*cos - x1*sin")],
           sel(T_EW, "rope")),
    Mutant("rope-pieces-8-bits",
           "the host cuts freq*2/pi into 8-bit pieces: pos * piece is no longer exact for pos "
           ">= 2^16",
           [("kernels/lib/model.py", "def rope_pieces(freq: np.ndarray, bits_per_piece: int = 7)",
             "def rope_pieces(freq: np.ndarray, bits_per_piece: int = 8)")],
           sel(T_EW, "rope")),
    Mutant("rope-pio2-ulp",
           "RoPE's fp32 pi/2 one ulp high (1.5707964897 instead of 1.5707963705): r is off by "
           "up to 6e-8 absolute",
           [("kernels/rope/rope.s", "kc:     .f32 12582912.0, 1.5707963267948966",
             "kc:     .f32 12582912.0, 1.5707964897155762")],
           sel(T_EW, "rope")),
    Mutant("rope-pio2-ulp-model-too",
           "the same pi/2 one ulp high in rope.s AND in the model it is held to bit for bit",
           [("kernels/rope/rope.s", "kc:     .f32 12582912.0, 1.5707963267948966",
             "kc:     .f32 12582912.0, 1.5707964897155762"),
            ("kernels/lib/model.py", "PIO2 = F(np.pi / 2)", "PIO2 = F(1.5707964897155762)")],
           [T_EW + "::test_rope_matches_model_bit_for_bit", T_EW + "::test_rope", T_MATH]),
    # ---- GEMV ------------------------------------------------------------------------------
    Mutant("gemv-t-stride",
           "gemv_t reads row i of the block with stride MB - 1 instead of MB",
           [("kernels/gemv/gemv_t.s", "ASTRIDE=MB, ASTEP=1", "ASTRIDE=MB - 1 + (MB == 1), ASTEP=1")],
           sel(T_GEMV, "test_gemv_t")),
    Mutant("gemv-x-route-east",
           "the middle rows forward x East instead of South",
           [("kernels/gemv/gemv.s", "        .route C_X, north -> ramp | south", "        .route C_X, north -> ramp | east")],
           sel(T_GEMV, "test_gemv and not tutorial and not bench and not test_gemv_t")),
    Mutant("gemv-no-bias-model-too",
           "b dropped by the driver AND by the model: only the float64 comparison can see it",
           [("kernels/gemv/run.py", "    if b is not None:\n        inputs[\"y\"] = col_of(",
             "    if False:\n        inputs[\"y\"] = col_of("),
            ("kernels/gemv/model.py", "    part = np.zeros((kx, mb * ky), dtype=f32)\n    part[0] = bp\n",
             "    part = np.zeros((kx, mb * ky), dtype=f32)\n")],
           sel(T_GEMV, "test_gemv and not tutorial and not bench and not test_gemv_t")),
    Mutant("gemv-model-commuted",
           "the model adds the row partials as s + part instead of part + s",
           [("kernels/gemv/model.py", "        s = part[px] + s", "        s = s + part[px]")],
           sel(T_GEMV, "test_gemv and not tutorial and not bench and not test_gemv_t"),
           equivalent="IEEE 754 addition is commutative (a + b and b + a round the same exact "
                      "sum; NaN payloads aside, which these inputs do not produce): the same bits"),
    Mutant("gemv-task-order",
           "reduce gets the lower task id: queued x elements may run after the reduce",
           [("kernels/gemv/gemv.inc", "T_XTASK = 1                     ; task ids (xtask's must be the lower)\nT_REDUCE = 2",
             "T_XTASK = 2                     ; task ids (xtask's must be the lower)\nT_REDUCE = 1")],
           [*sel(T_GEMV, "test_gemv and not tutorial and not bench"), TABLE]),
    # ---- gemm -----------------------------------------------------------------------------
    Mutant("gemm-join-four",
           "a step waits for 4 of its 5 events: the next step can start before a shift has "
           "finished (its receive still writing the buffer the compute reads, or a "
           "microthread still busy)",
           [("kernels/gemm/gemm.s", "    addi r10, r0, 5                                     ; 4 fabric ops",
             "    addi r10, r0, 4                                     ; 4 fabric ops")],
           sel(T_GEMM, "test_gemm and not special")),
    Mutant("gemm-skew-b",
           "the host's skew of B one block off ((py + px + 1) mod P): A and B blocks no longer "
           "meet on the same K block",
           [("kernels/gemm/run.py", "            ins_b[(px, py)] = bblk[(px, l)]",
             "            ins_b[(px, py)] = bblk[(px, (l + 1) % p)]")],
           sel(T_GEMM, "test_gemm and not special")),
    Mutant("gemm-model-order",
           "the model adds the K blocks in the reverse step order (the kernel is right): only "
           "the bit-for-bit comparison can see it",
           [("kernels/gemm/model.py", "    for s in range(p):\n        l = (ii + jj + s) % p",
             "    for s in reversed(range(p)):\n        l = (ii + jj + s) % p")],
           sel(T_GEMM, "test_gemm and not special")),
    Mutant("gemm-no-drain",
           "no drain of the datapath at the end of a step's compute: values stay right (an "
           "async op takes effect at issue), the cycles change",
           [("kernels/gemm/gemm.s", "    fmovs d6, a6                                        ; wait for the datapath",
             "    nop                                                 ; wait for the datapath")],
           [*sel(T_GEMM, "test_gemm and not special"), TABLE]),
    Mutant("gemm-op5-async",
           "op 5 of a group async too: five async ops in a row, ops 4 and 5 both on ut7, which "
           "is still busy with op 4",
           [("kernels/gemm/gemm.s", "    .if I % 5 == 0\n    fmachs d0, a0, b(I), r1\n",
             "    .if I == 0\n    fmachs d0, a0, b(I), r1\n")],
           sel(T_GEMM, "test_gemm and not special")),
    Mutant("gemm-limit-b-once",
           "the driver counts one B buffer instead of two: blocks that do not fit reach the "
           "assembler",
           [("kernels/gemm/run.py", "    return 2 * mb * nb + 4 * kb * nb + 2 * mb * kb",
             "    return 2 * mb * nb + 2 * kb * nb + 2 * mb * kb")],
           sel(T_GEMM, "limit or fits")),
    Mutant("gemm-model-compute-sync",
           "the cost model takes every fmachs as synchronous: the cycles of the kernel table "
           "would no longer be predicted",
           [("kernels/gemm/model.py", "                t = dp if i % 5 == 0 else t + 1",
             "                t = dp")],
           sel(T_GEMM, "cost_model or test_gemm")),
    # ---- collectives -----------------------------------------------------------------------
    Mutant("coll-far-side-short",
           "the far side of each line is one PE short: the edge PE's vector is not reduced "
           "(its send goes to a PE that does not take it)",
           [("kernels/collectives/collectives.inc", "        line_reduce I - R, P - R, SCHEME, SEG, CB, VERT, 0, 0",
             "        line_reduce I - R, P - R - 1, SCHEME, SEG, CB, VERT, 0, 0")],
           sel(T_COLL, "reduce_sum or reduce_max")),
    Mutant("coll-twophase-segment",
           "the two-phase segment length sqrt(P) + 1 (driver and model share it: values stay "
           "right, the cycles change)",
           [("kernels/collectives/model.py", "    return max(1, round(math.sqrt(max(p - root, root + 1))))",
             "    return max(1, round(math.sqrt(max(p - root, root + 1)))) + 1")],
           [*sel(T_COLL, "reduce_sum"), TABLE]),
    Mutant("coll-tree-near-colors",
           "the tree's near side of a middle root starts one color later (an unused color in "
           "between)",
           [("kernels/collectives/collectives.inc", "CB + ((SCHEME == 1) ? LF : 0), VERT, 1,",
             "CB + ((SCHEME == 1) ? LF + 1 : 0), VERT, 1,")],
           [T_COLL + "::test_reduce_allreduce_and_broadcast_to_any_root",
            T_LIM + "::test_tree_colors_limit_is_exact"]),
    Mutant("allreduce-bcast-color-15",
           "the all-reduce's broadcast color from max(15, ...) instead of max(16, ...)",
           [("kernels/collectives/collectives.inc", "    C_BC = max(16, CBY + NCY)", "    C_BC = max(15, CBY + NCY)")],
           [*sel(T_COLL, "allreduce"), TABLE],
           equivalent="C_BC stays >= CBY + NCY, past every color of the two reduce phases, and "
                      "<= 23 wherever the original was (allreduce.s's .error and the driver's "
                      "colors_needed still hold): a color is a label, so neither the values nor "
                      "the cycles change (the table check runs to show the latter)"),
    # ---- attention decode ------------------------------------------------------------------
    Mutant("attn-skip-position",
           "each PE counts one position fewer (the newest slot it holds is never attended)",
           [("kernels/attention/attn_decode.s", "    addi r10, r5, 1\n", "    mov  r10, r5\n")],
           [T_ATTN]),
    Mutant("attn-gqa-head0",
           "GQA head mapping: every query head reads q_0 (kernel and model alike)",
           [("kernels/attention/attn_decode.s", "    addi r12, r12, qkv              ; &q_h[0]",
             "    addi r12, r0, qkv               ; &q_h[0]"),
            ("kernels/attention/model.py", "s = s + self.K[:, d, :n_used] * q[h, d]",
             "s = s + self.K[:, d, :n_used] * q[0, d]")],
           [T_ATTN]),
    Mutant("attn-no-max",
           "attention without the max subtraction, kernel and model alike: the same numbers "
           "unless a score leaves exp's clamped range [-87, 88]",
           [("kernels/attention/attn_decode.s", "    fsubs d4, a4, r3                ; x = s - M\n", ""),
            ("kernels/attention/model.py", "e = fm.exp(s - mx)", "e = fm.exp(s)")],
           [T_ATTN]),
    Mutant("attn-divide-check",
           "the driver no longer refuses P, S for which the kernel's divide-free slot "
           "computation is wrong (P=73, S=256)",
           [("kernels/attention/run.py",
             "    return bool(np.all(prod < 2 ** 32) and np.all((prod >> np.uint64(20)) == x // np.uint64(P)))",
             "    return True")],
           [T_DRV]),
    Mutant("attn-chain-max-local",
           "a middle PE of the chain forwards its own maxima instead of max(incoming, own)",
           [("kernels/attention/attn_decode.s",
             "    ldsd d0, d_mx_out\n    ldsd a0, d_mx_in\n    ldsd b0, d_mx\n    fmaxs d0, a0, b0\n",
             "    ldsd d0, d_mx_out\n    ldsd a0, d_mx_in\n    ldsd b0, d_mx\n    fmovs d0, a0\n")],
           [T_ATTN]),
]


def copy_packages(out: Path) -> None:
    """OUT/wse/<pkg> for each package, as csrc/build_sanitized.sh lays it out (the built core
    .so included: nothing is rebuilt)."""
    (out / "wse").mkdir(parents=True)
    for pkg in PACKAGES:
        if (ROOT / pkg).is_dir():
            shutil.copytree(ROOT / pkg, out / "wse" / pkg,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def apply(out: Path, m: Mutant) -> None:
    for rel, old, new in m.edits:
        src = ROOT / rel
        text = src.read_text()
        n = text.count(old)
        assert n == 1, f"mutant {m.name}: the snippet occurs {n} times in {rel} (must be once): {old!r}"
        dst = out / "wse" / Path(rel)
        cur = dst.read_text()
        assert cur.count(old) == 1, f"mutant {m.name}: snippet not once in the copy of {rel}"
        dst.write_text(cur.replace(old, new))


def env_for(out: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(out), CI="true", PYTHONDONTWRITEBYTECODE="1")
    for k in ("HYPOTHESIS_PROFILE", "WSE_EMU"):
        env.pop(k, None)
    return env


def split_checks(checks: list) -> tuple[list, bool]:
    return [c for c in checks if c != TABLE], TABLE in checks


# A mutant is invalid when the mutated source is malformed: Python does not compile or import
# it, or the assembler does not parse it. (An AssemblyError about SRAM or a kernel's own
# .error is a check doing its job: a kill.)
INVALID_MARKS = ("SyntaxError", "IndentationError", "ImportError", "ModuleNotFoundError",
                 "NameError: name", "syntax error", "unknown instruction", "unknown symbol",
                 "unknown register", "unknown directive")


def run_checks(out: Path, checks: list) -> tuple[str, str]:
    """('pass', '') or ('fail', what failed) or ('invalid', why) or ('timeout', which)."""
    env = env_for(out)
    args, table = split_checks(checks)
    runs = []
    if args:
        runs.append(("pytest " + " ".join(args), PYTEST + args))
    if table:
        runs.append(("table --check", [sys.executable, "-m", "wse.kernels.table", "--check",
                                       "--doc", str(ROOT / "docs" / "kernels.md")]))
    for label, cmd in runs:
        try:
            r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            return "timeout", label
        if r.returncode != 0:
            text = r.stdout + r.stderr
            failed = [ln for ln in text.splitlines() if ln.startswith(("FAILED", "ERROR"))]
            what = failed[0] if failed else (text.strip().splitlines() or ["?"])[-1]
            # invalid: the failure is the assembler or Python refusing the mutated source
            errs = [ln for ln in text.splitlines() if ln.startswith("E ") or "Error" in ln]
            if any(mark in ln for ln in errs for mark in INVALID_MARKS):
                return "invalid", f"{label}: {what}"
            return "fail", f"{label}: {what}"
    return "pass", ""


def check_copy_is_used(out: Path) -> None:
    code = ("import wse.kernels, wse.emu._core as c, sys; "
            "print(wse.kernels.__file__); print(c.__file__)")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env_for(out),
                       capture_output=True, text=True, check=True)
    for line in r.stdout.split():
        assert line.startswith(str(out)), f"the copy is not what gets imported: {line}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="comma-separated mutant names")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = ap.parse_args(argv)
    names = [m.name for m in MUTANTS]
    assert len(set(names)) == len(names), "mutant names must be unique"
    for m in MUTANTS:
        assert m.checks.count("-k") <= 1, f"mutant {m.name}: one -k per pytest run (the last wins)"
    todo = MUTANTS
    if args.only:
        want = args.only.split(",")
        bad = [w for w in want if w not in names]
        if bad:
            ap.error(f"no mutant {bad}; --list shows them")
        todo = [m for m in MUTANTS if m.name in want]
    if args.list:
        for m in todo:
            print(f"{m.name:28s} {m.why}")
        return 0
    log = (lambda *a: print(*a, file=sys.stderr, flush=True)) if args.json else \
        (lambda *a: print(*a, flush=True))
    # every snippet occurs exactly once in the checkout (a stale list fails here, loudly)
    for m in todo:
        for rel, old, _ in m.edits:
            n = (ROOT / rel).read_text().count(old)
            assert n == 1, f"mutant {m.name}: the snippet occurs {n} times in {rel} (must be once): {old!r}"
    # the unmutated copy passes every check that the selected mutants use
    union, table = [], False
    for m in todo:
        a, t = split_checks(m.checks)
        table |= t
        files = [x for x in a if x.startswith("tests/")]
        for f in files:
            if f not in union:
                union.append(f)
    results = []
    with tempfile.TemporaryDirectory(prefix="wse-mut-") as tmp:
        base = Path(tmp) / "unmutated"
        copy_packages(base)
        check_copy_is_used(base)
        t0 = time.time()
        status, what = run_checks(base, union + ([TABLE] if table else []))
        assert status == "pass", f"the unmutated copy fails its checks: {status} {what}"
        log(f"unmutated copy: pass ({time.time() - t0:.0f} s: {' '.join(union)}{' + table' if table else ''})")
        for m in todo:
            out = Path(tmp) / m.name
            copy_packages(out)
            apply(out, m)
            t0 = time.time()
            status, what = run_checks(out, m.checks)
            if status in ("fail", "timeout"):
                outcome = "killed"
            elif status == "invalid":
                outcome = "invalid"
            else:
                outcome = "equivalent" if m.equivalent else "survived"
            wrong = bool(m.equivalent) and outcome == "killed"
            results.append({"name": m.name, "outcome": outcome, "by": what,
                            "seconds": round(time.time() - t0, 1), "why": m.why,
                            "equivalent": m.equivalent or None,
                            "equivalence_claim_wrong": wrong})
            log(f"{m.name:28s} {outcome:10s} {time.time() - t0:6.1f} s  {what}")
            shutil.rmtree(out)
    counts = {k: sum(r["outcome"] == k for r in results)
              for k in ("killed", "survived", "equivalent", "invalid")}
    summary = (f"{len(results)} mutants: {counts['killed']} killed, {counts['survived']} survived, "
               f"{counts['equivalent']} equivalent, {counts['invalid']} invalid")
    if args.json:
        print(json.dumps({"summary": counts, "total": len(results), "mutants": results}, indent=1))
    else:
        print(summary)
        for r in results:
            if r["outcome"] == "survived":
                print(f"  SURVIVED {r['name']}: {r['why']}")
            if r["equivalence_claim_wrong"]:
                print(f"  KILLED although marked equivalent: {r['name']}")
    bad = counts["survived"] or any(r["equivalence_claim_wrong"] for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
