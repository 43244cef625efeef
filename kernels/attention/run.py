"""Host driver of ``attn_decode.s`` (``wse.kernels.attention.run``).

>>> chain = AttentionChain(P=4, S=8, head_dim=16, group=2)
>>> out = chain.step(pos, q, k, v)       # (group, head_dim) float32, read from the chain end
>>> chain.cycles                          # emulated cycles of the last step
"""

from __future__ import annotations

import math

import numpy as np

from wse.asm.diag import AssemblyError
from wse.kernels.driver import assemble, check_int, host_array, kernel_source, load_object, make_fabric, \
    sram_overflow

C_IN = 0


MAX_DSD_LEN = 12288     # the largest vector length a DSD holds (the assembler's limit)


class SizeError(ValueError):
    """The arguments are valid numbers but the kernel cannot hold them (SRAM)."""


def _divide_ok(P: int, S: int) -> bool:
    """attn_decode.s computes (pos - m) // P as (pos - m) * ceil(2^20 / P) >> 20 in 32 bits;
    True if that is exact for every pos - m below P * S."""
    x = np.arange(P * S, dtype=np.uint64)
    prod = x * np.uint64(-(-(1 << 20) // P))
    return bool(np.all(prod < 2 ** 32) and np.all((prod >> np.uint64(20)) == x // np.uint64(P)))


def _f32_bits(x: float) -> int:
    return int(np.array(x, np.float32).view(np.uint32))


class AttentionChain:
    def __init__(self, P: int, S: int, head_dim: int, group: int, *, arch: str = "wse3",
                 backend: str | None = None, scale: float | None = None):
        P, S = check_int("P", P, 1, 4096), check_int("S", S, 1)
        head_dim, group = check_int("head_dim", head_dim, 1), check_int("group", group, 1, 8)
        for what, n in (("head_dim * S (the K and V slices)", head_dim * S), ("group * S (the scores)", group * S)):
            if n > MAX_DSD_LEN:
                raise ValueError(f"{what} = {n} is over {MAX_DSD_LEN}, the longest vector a DSD can "
                                 f"address (P={P}, S={S}, head_dim={head_dim}, group={group})")
        if not _divide_ok(P, S):
            raise ValueError(f"P={P}, S={S}: the kernel finds a position's slot as (pos - m) * "
                             f"ceil(2^20 / P) >> 20, which is not (pos - m) // P for every position "
                             f"below P * S = {P * S}; use a power-of-two P or a smaller S")
        self.P, self.S, self.hd, self.G = P, S, head_dim, group
        if scale is None:
            scale = 1.0 / math.sqrt(head_dim)
        elif isinstance(scale, (bool, np.bool_)) or not isinstance(scale, (int, float, np.integer, np.floating)):
            raise ValueError(f"scale must be a real number (the score scale, default head_dim ** -0.5), got {scale!r}")
        if not (math.isfinite(float(scale)) and abs(float(scale)) <= float(np.finfo(np.float32).max)):
            raise ValueError(f"scale must be a finite number within fp32's range, got {scale!r}")
        self.length = 0      # positions 0 .. length-1 are in the cache
        self.defines = {"P": P, "S": S, "HD": head_dim, "G": group, "SCALE_BITS": _f32_bits(scale)}
        try:
            data = assemble(kernel_source("attention/attn_decode.s"), self.defines, arch)
        except AssemblyError as e:
            if (first := sram_overflow(e)) is None:
                raise
            raise SizeError(f"P={P}, S={S}, head_dim={head_dim}, group={group}: a PE's cache slice "
                            f"does not fit in its SRAM on {arch}; lower S (more PEs) or head_dim:\n"
                            f"{first}") from None
        self.obj = load_object(data)
        self.fabric = make_fabric(data, self.obj, arch, backend)
        self.cycles = 0
        self.total_cycles = 0

    def step(self, pos: int, q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Append k, v at ``pos`` (0 .. the number of cached positions: a step may go back and
        overwrite, not skip ahead) and return the G heads' attention outputs over 0 .. pos.
        q: (group, head_dim) (or flat); k, v: (head_dim,)."""
        pos = check_int("pos", pos, 0)
        if pos >= self.P * self.S:
            raise ValueError(f"position {pos} beyond the cache ({self.P} x {self.S})")
        if pos > self.length:
            cached = f"positions 0 .. {self.length - 1} are cached" if self.length else "nothing is cached yet"
            raise ValueError(f"position {pos} skips ahead: {cached}, so the next is at most {self.length}")
        q = host_array("q", q, np.float32)
        if q.size != self.G * self.hd or q.ndim not in (1, 2) or (q.ndim == 2 and q.shape != (self.G, self.hd)):
            raise ValueError(f"q has shape {q.shape}; expected ({self.G}, {self.hd}) or ({self.G * self.hd},)")
        k = host_array("k", k, np.float32, (self.hd,))
        v = host_array("v", v, np.float32, (self.hd,))
        payload = np.concatenate([q.reshape(-1), k, v]).view(np.uint32)
        fab = self.fabric
        fab.send(C_IN, 0, 0, "north", np.concatenate([np.array([pos], np.uint32), payload]))
        c0 = fab.cycle
        fab.run()
        self.cycles = fab.cycle - c0
        self.total_cycles += self.cycles
        self.length = pos + 1
        out = np.asarray(fab.read("out", rect=(0, self.P - 1, 1, 1)))[0, 0]
        return out.reshape(self.G, self.hd).astype(np.float32)


SMOLLM2 = {"P": 32, "S": 64, "head_dim": 64, "group": 3}   # one KV head of SmolLM2-135M


def measure(P: int = 32, S: int = 64, head_dim: int = 64, group: int = 3, pos: int = 40,
            arch: str = "wse3", seed: int = 0) -> dict:
    """Run steps 0 .. pos with standard-normal q, k, v (seed) and return the cycles of the step
    at ``pos`` and the largest error over all steps against float64 softmax attention, relative
    to the largest |output| of that step (max_rel_err)."""
    chain = AttentionChain(P, S, head_dim, group, arch=arch)
    pos = check_int("pos", pos, 0, P * S - 1)
    rng = np.random.default_rng(seed)
    keys = np.zeros((0, head_dim))
    vals = np.zeros((0, head_dim))
    worst = 0.0
    scale = 1.0 / math.sqrt(head_dim)
    for p in range(pos + 1):
        q = rng.standard_normal((group, head_dim)).astype(np.float32)
        k = rng.standard_normal(head_dim).astype(np.float32)
        v = rng.standard_normal(head_dim).astype(np.float32)
        out = chain.step(p, q, k, v)
        keys, vals = np.vstack([keys, k]), np.vstack([vals, v])
        s = (q.astype(np.float64) @ keys.T) * scale
        e = np.exp(s - s.max(axis=-1, keepdims=True))
        ref = (e / e.sum(axis=-1, keepdims=True)) @ vals
        worst = max(worst, float(np.max(np.abs(out - ref)) / np.max(np.abs(ref))))
    return {"P": P, "S": S, "head_dim": head_dim, "group": group, "arch": arch, "pos": pos,
            "cycles": chain.cycles, "max_rel_err": worst}


def table_rows() -> list[dict]:
    """Rows for docs/kernels.md (python -m wse.kernels.table): the SmolLM2-sized chain."""
    m = measure(**SMOLLM2, pos=40)
    return [{"kernel": "attention decode", "problem": "P=32 S=64 head_dim=64 G=3, step at pos 40",
             "pes": "1x32", "cycles": m["cycles"],
             "notes": "AttentionChain; KV cache in SRAM, software exp/rcp"}]


def main(argv=None) -> int:
    from wse.cli.files import int_arg
    from wse.kernels._cli import Parser, seed_arg
    ap = Parser(prog="python -m wse.kernels.attention",
                description="Cycles of one AttentionChain decode step and its error against float64 "
                            "softmax attention (defaults: the SmolLM2-sized chain, P=32 S=64 "
                            "head_dim=64 G=3).")
    # (the ranges are measure()'s: its errors name them)
    ap.add_argument("--P", type=int_arg, default=32)
    ap.add_argument("--S", type=int_arg, default=64)
    ap.add_argument("--head-dim", type=int_arg, default=64)
    ap.add_argument("--group", type=int_arg, default=3)
    ap.add_argument("--pos", type=int_arg, default=40, help="the step whose cycles are printed (steps 0..pos run)")
    ap.add_argument("--arch", default="wse3", choices=("wse2", "wse3"))
    ap.add_argument("--seed", type=seed_arg, default=0, help="seed of the random inputs (default 0)")
    a = ap.parse_args(argv)
    m = measure(a.P, a.S, a.head_dim, a.group, a.pos, a.arch, a.seed)
    print(f"attention decode P={m['P']} S={m['S']} head_dim={m['head_dim']} G={m['group']} ({m['arch']}): "
          f"{m['cycles']} cycles for the step at position {m['pos']}; max relative error vs float64 "
          f"over steps 0..{m['pos']}: {m['max_rel_err']:.2e}")
    return 0

