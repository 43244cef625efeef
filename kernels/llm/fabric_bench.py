"""Benchmark of the all-fabric SmolLM2 decode (``wse.kernels.llm.fabric_bench``).

    python -m wse.kernels.llm.fabric_bench       # prints the dict as JSON
    python -m wse.kernels.llm.fabric_bench --context-check [--every N] [MODEL [POSITIONS]]
        # the whole context, checked at every step (check_context; ~35 min for SmolLM2)
    python -m wse.kernels.llm.fabric_bench --window 56:64 [--perf-ctl FIFO] [MODEL]
        # those positions only, timed; with perf record --control=fifo:FIFO -D -1, profiled
"""

from __future__ import annotations

import json
import re
import resource
import time

import click
import numpy as np


def bench_decode(model: str = "smollm2-135m", prompt: str = "The capital of France is", n_new: int = 3,
                 arch: str = "wse3", full_chain: bool = True) -> dict:
    """Decode ``prompt`` + ``n_new`` tokens with the fabric engine and with the numpy reference.

    decode_wall_ms_per_token: median emulator wall time of one step (send packet, run to idle,
    read the token); numpy_ms_per_token: median of ReferenceModel steps over the same tokens;
    decode_cycles_per_token: median emulated cycles of a step; projected tokens/s at the arch's
    clock; decode_host_mem_mb: peak RSS of this process (resource.getrusage);
    decode_{wavelets_received,wavelet_hops,instructions,tensor_elements}_per_token: the
    emulator's event counts (``Fabric.stats()``) over the whole decode divided by the steps (the
    work the program gives the emulator). The fabric tokens must equal the reference's, else
    this raises instead of reporting a time.

    The prompt's positions are small, and below ``pos = chain - 1`` the attention uses only the
    chain PEs that already hold a position (docs/decode.md), so those steps are the cheap
    regime. With ``full_chain`` the same decoder goes on (the reference's greedy tokens, checked
    again) through positions 2 chain - 8 .. 2 chain - 1 (``_full_chain``), where every chain PE
    takes part as at any longer context and the k, v relay is longest; ``decode_full_chain_*``
    are the same figures over those eight steps
    (numpy: ReferenceModel.step at the same positions).
    """
    from .fabric import FabricDecoder
    from .reference import ReferenceModel
    from .tokenizer import load_model

    w, tok = load_model(model)
    ids = tok.encode(prompt)
    ref = ReferenceModel(w)
    want = ref.generate(ids, n_new)
    t0 = time.perf_counter()
    dec = FabricDecoder(w, arch=arch)
    build_s = time.perf_counter() - t0
    keys = ("wavelets_received", "wavelet_hops", "instructions", "tensor_elements")
    st0 = dec.program.fabric.stats()
    got = dec.generate(ids, n_new)
    st1 = dec.program.fabric.stats()
    events = {f"decode_{k}_per_token": (st1[k] - st0[k]) / dec.stats.steps for k in keys}
    if got != want:
        raise AssertionError(f"bench_decode: fabric tokens {got} != reference {want}")
    feed = ids + want[:-1]
    np_ms = []
    for _ in range(3):
        t0 = time.perf_counter()
        ref.generate(ids, n_new)
        np_ms.append((time.perf_counter() - t0) * 1e3 / len(feed))
    cyc = float(np.median(dec.stats.cycles))
    wall_ms = float(np.median(dec.stats.wall)) * 1e3
    # (taken before the full-chain run, whose steps go through the same decoder's stats)
    full = _full_chain(dec, ref, ids, keys) if full_chain else {}
    return {
        "decode_wall_ms_per_token": wall_ms,
        "numpy_ms_per_token": float(np.median(np_ms)),
        "decode_ratio": wall_ms / float(np.median(np_ms)),
        "decode_cycles_per_token": cyc,
        "decode_projected_tokens_per_s": dec.clock_hz / cyc,
        "decode_pes": dec.pes_used,
        "decode_grid": list(dec.grid),
        "decode_build_s": build_s,
        "decode_host_mem_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **events,
        **full,
    }


def full_chain_steps(chain: int) -> tuple[int, int]:
    """(first position, steps) of the full-chain regime: the eight positions 2 chain - 8 ..
    2 chain - 1 (at least chain), which _full_chain and role_events measure."""
    return max(chain, 2 * chain - 8), 8


def _full_chain(dec, ref, ids: list, keys: tuple) -> dict:
    """Steps at positions 2 chain - 8 .. 2 chain - 1 (SmolLM2: 56-63; tiny: 8-15): every attention
    chain PE holds positions, and the owner of pos (m = pos % chain) is among the last eight of
    the chain, so ``v, k`` are relayed through the most CEs (docs/decode.md): the dearest steps
    of the full-chain regime, which repeats every ``chain`` positions (the attention's own work
    grows with the context on both sides, the fabric's and numpy's)."""
    chain = dec.plan.layer.attn.chain
    first, n_steps = full_chain_steps(chain)
    n_new = first + n_steps + 1 - len(ids)
    want = ref.generate(ids, n_new)
    feed = ids + want[:-1]
    k0 = len(dec.stats.wall)
    fab = dec.program.fabric
    got = []
    for pos, tok in enumerate(feed):
        if pos == first:          # the fabric's event counts from the first measured position on
            snap = fab.stats()
        nxt = dec.step(tok, pos)
        if pos >= len(ids) - 1:
            got.append(nxt)
    if got != want:
        raise AssertionError(f"bench_decode (full chain): fabric tokens {got} != reference {want}")
    end = fab.stats()
    events = {f"decode_full_chain_{k}_per_token": (end[k] - snap[k]) / n_steps for k in keys}
    walls = dec.stats.wall[k0:][first:first + n_steps]
    cycles = dec.stats.cycles[k0:][first:first + n_steps]
    np_ms = []
    for _ in range(3):
        ref.reset()
        ts = []
        for pos, tok in enumerate(feed[:first + n_steps]):
            t0 = time.perf_counter()
            ref.step(tok, pos)
            ts.append(time.perf_counter() - t0)
        np_ms.append(float(np.median(ts[first:])) * 1e3)
    w = float(np.median(walls)) * 1e3
    n = float(np.median(np_ms))
    return {
        "decode_full_chain_positions": [first, first + n_steps - 1],
        "decode_full_chain_wall_ms_per_token": w,
        "decode_full_chain_numpy_ms_per_token": n,
        "decode_full_chain_ratio": w / n,
        "decode_full_chain_cycles_per_token": float(np.median(cycles)),
        **events,
    }


def compare_cores(other, model: str = "smollm2-135m", prompt: str = "The capital of France is",
                  n_new: int = 8, arch: str = "wse3", rounds: int = 3, core=None) -> dict:
    """This core against another build of it (``other``: the path of a ``_core*.so``), in one
    process. Each round builds one decoder per core (this one first in even rounds, the other
    first in odd ones: the first may get a different memory placement) and runs the prompt +
    ``n_new`` steps on both, interleaved (A B, then B A at the next position), each step timed
    in CPU time (time.process_time: a descheduled process is not charged).

    ab_ratio is the median, over the steps after the first of every round, of (this step /
    other step): below 1 this core is faster. ab_ratio_q1/q3 are the quartiles of the same
    ratios and ab_ratio_rounds the median of each round (their spread is the noise: a core
    against a copy of itself gives 0.98-1.02 per round on the shared 2-core machine).
    ab_stats_identical says whether the two fabrics' statistics (cycles, hops, instructions,
    stalls...) were equal after every round; the tokens of both must equal the numpy
    reference's, else this raises. ``core``: ``other`` already loaded by ``load_core`` (wse-bench
    loads it before its other sections, to refuse a bad file early).
    """
    import gc

    from wse.emu.fabric import load_core, use_core

    from .fabric import FabricDecoder
    from .reference import ReferenceModel
    from .tokenizer import load_model

    core = core if core is not None else load_core(other)
    w, tok = load_model(model)
    ids = tok.encode(prompt)
    want = ReferenceModel(w).generate(ids, n_new)
    feed = ids + want[:-1]
    cores = (None, core)
    ms: tuple[list, list] = ([], [])
    ratios, per_round, identical = [], [], True
    for rnd in range(rounds):
        decs = [None, None]
        for k in ((0, 1) if rnd % 2 == 0 else (1, 0)):
            with use_core(cores[k]):
                decs[k] = FabricDecoder(w, arch=arch)
        step_ms: tuple[list, list] = ([], [])
        got: tuple[list, list] = ([], [])
        for pos, tok in enumerate(feed):
            for k in ((0, 1) if pos % 2 == 0 else (1, 0)):
                with use_core(cores[k]):
                    t0 = time.process_time()
                    nxt = decs[k].step(tok, pos)
                    step_ms[k].append((time.process_time() - t0) * 1e3)
                if pos >= len(ids) - 1:
                    got[k].append(nxt)
        for k in (0, 1):
            if got[k] != want:
                raise AssertionError(f"compare_cores: {'the other' if k else 'this'} core's "
                                     f"tokens {got[k]} != reference {want}")
        stats = []
        for c, d in zip(cores, decs):
            with use_core(c):
                stats.append(d.program.fabric.stats())
        identical = identical and stats[0] == stats[1]
        r = [a / b for a, b in zip(step_ms[0][1:], step_ms[1][1:])]
        ratios += r
        per_round.append(float(np.median(r)))
        for k in (0, 1):
            ms[k].extend(step_ms[k][1:])
        decs = stats = None     # (each fabric's wse_close is bound to its own core)
        gc.collect()            # one round's fabrics are freed before the next round's are built
    q1, med, q3 = (float(x) for x in np.percentile(ratios, [25, 50, 75]))
    return {
        "ab_core": str(other),
        "ab_model": model,
        "ab_steps": len(ratios),
        "ab_this_ms_per_step": float(np.median(ms[0])),
        "ab_other_ms_per_step": float(np.median(ms[1])),
        "ab_ratio": med,
        "ab_ratio_q1": q1,
        "ab_ratio_q3": q3,
        "ab_ratio_rounds": per_round,
        "ab_stats_identical": identical,
    }


def check_context(model: str = "smollm2-135m", positions: int | None = None,
                  prompt: str = "The capital of France is", arch: str = "wse3",
                  every: int = 128, progress=None) -> dict:
    """Greedy decode of ``prompt`` on the fabric through ``positions`` positions (default: the
    whole context the decoder plans, 2048 for both built-in models), checking every step: the
    token and logits must equal FabricModel's (the numpy mirror of the fabric's arithmetic) bit
    for bit, and the logits are compared with the float32 ReferenceModel (worst absolute
    difference reported). ``progress`` (a callable) gets a dict every ``every`` positions and at
    the last (among its keys the step's cycles and wavelet hops). Returns {positions,
    mismatches, worst_vs_reference, cycles_first, cycles_last, wall_s, last8_*}; mismatches
    counts the steps whose token or logits differ from FabricModel's; last8_wall_ms_per_token / last8_numpy_ms_per_token / last8_ratio are the
    medians of the fabric's step (``dec.stats.wall``) and of ReferenceModel.step over the last
    eight positions, timed one after the other in this process (the end-of-context counterpart
    of bench_decode's decode_ratio).
    """
    from .errors import LLMError
    from .fabric import FabricDecoder
    from .fabric_model import FabricModel
    from .reference import ReferenceModel
    from .tokenizer import load_model

    w, tok = load_model(model)
    ids = tok.encode(prompt)
    dec = FabricDecoder(w, arch=arch)
    n = positions if positions is not None else dec.layout.context
    if not 1 <= n <= dec.layout.context:
        raise LLMError(f"check_context: {n} positions; {model} is planned for 1..{dec.layout.context}")
    mirror = FabricModel(w, dec.plan)
    ref = ReferenceModel(w, max_context=max(n, 1))
    t0 = time.perf_counter()
    worst, bad, nxt = 0.0, 0, None
    ref_ms: list = []
    for pos in range(n):
        tok = ids[pos] if pos < len(ids) else nxt
        hops0 = dec.program.fabric.stats()["wavelet_hops"]
        nxt, logits = dec.step(tok, pos, want_logits=True)
        hops = dec.program.fabric.stats()["wavelet_hops"] - hops0
        want = mirror.step(tok, pos)
        if nxt != want.token or not np.array_equal(logits, want.logits):
            bad += 1
        t1 = time.perf_counter()
        r = ref.step(tok, pos)
        ref_ms.append((time.perf_counter() - t1) * 1e3)
        worst = max(worst, float(np.max(np.abs(logits - r))))
        if progress is not None and (pos % every == 0 or pos == n - 1):
            progress({"pos": pos, "mismatches": bad, "worst_vs_reference": worst,
                      "cycles": dec.stats.cycles[-1], "wavelet_hops": hops,
                      "elapsed_s": time.perf_counter() - t0})
    wall_ms = float(np.median(dec.stats.wall[-8:])) * 1e3
    np_ms = float(np.median(ref_ms[-8:]))
    return {"model": model, "positions": n, "mismatches": bad, "worst_vs_reference": worst,
            "cycles_first": dec.stats.cycles[0], "cycles_last": dec.stats.cycles[-1],
            "wall_s": time.perf_counter() - t0, "last8_positions": [max(0, n - 8), n - 1],
            "last8_wall_ms_per_token": wall_ms, "last8_numpy_ms_per_token": np_ms,
            "last8_ratio": wall_ms / np_ms}


def window(first: int, end: int, model: str = "smollm2-135m", prompt: str = "The capital of France is",
           arch: str = "wse3", perf_ctl: str | None = None) -> dict:
    """The fabric decode over positions ``first .. end - 1`` only: greedy from ``prompt`` (the
    reference's tokens, checked), each step of the window timed, with the numpy reference's step
    at the same positions timed right after it in this process. Returns the medians over the
    window (wall ms per token, numpy ms, their ratio, cycles) and the emulator's event counts per
    token over it.

    ``perf_ctl``: a FIFO that ``perf record --control=fifo:FIFO -D -1`` reads: "enable" is
    written to it just before each of the window's fabric steps and "disable" just after, so a
    profile covers exactly the emulator's work in the window (not the numpy steps between)."""
    import os
    import stat

    from .errors import LLMError
    from .fabric import FabricDecoder
    from .reference import ReferenceModel
    from .tokenizer import load_model

    if perf_ctl:                                                       # (before the long build)
        try:
            fifo = stat.S_ISFIFO(os.stat(perf_ctl).st_mode)
        except OSError as e:       # (it was "[Errno 2] No such file or directory: '...'")
            fifo, why = False, e.strerror or str(e)
        else:
            why = "not a FIFO"
        if not fifo:
            raise LLMError(f"--perf-ctl {perf_ctl}: {why}; make one with mkfifo and give it to "
                           f"perf record --control=fifo:{perf_ctl} -D -1 as well")
    w, tok = load_model(model)
    ids = tok.encode(prompt)
    dec = FabricDecoder(w, arch=arch)
    if not 0 <= first < end <= dec.layout.context:
        raise LLMError(f"window {first}:{end}: {model} is planned for positions 0..{dec.layout.context - 1}; "
                       f"give FIRST:END with FIRST < END")
    ref = ReferenceModel(w)
    want = ref.generate(ids, max(1, end + 1 - len(ids)))
    feed = (ids + want)[:end]
    ctl = open(perf_ctl, "w") if perf_ctl else None      # (blocks until perf opens the FIFO)
    keys = ("wavelets_received", "wavelet_hops", "instructions", "tensor_elements")
    fab = dec.program.fabric
    walls, cycles, np_ms, got = [], [], [], []
    ref.reset()
    try:
        for pos, t in enumerate(feed):
            if pos == first:
                snap = fab.stats()
            if pos >= first and ctl:
                ctl.write("enable\n"); ctl.flush()
            nxt = dec.step(t, pos)
            if pos >= first and ctl:
                ctl.write("disable\n"); ctl.flush()
            if pos >= first:
                walls.append(dec.stats.wall[-1])
                cycles.append(dec.stats.cycles[-1])
            t0 = time.perf_counter()
            ref.step(t, pos)
            if pos >= first:
                np_ms.append((time.perf_counter() - t0) * 1e3)
            if pos >= len(ids) - 1:
                got.append(nxt)
    finally:
        if ctl:
            ctl.close()
    if got != want[:len(got)]:
        raise AssertionError(f"window: fabric tokens {got} != reference {want[:len(got)]}")
    stop = fab.stats()
    wall = float(np.median(walls)) * 1e3
    return {"model": model, "arch": arch, "window": [first, end - 1],
            "wall_ms_per_token": wall, "numpy_ms_per_token": float(np.median(np_ms)),
            "ratio": wall / float(np.median(np_ms)), "cycles_per_token": float(np.median(cycles)),
            **{f"{k}_per_token": (stop[k] - snap[k]) / (end - first) for k in keys}}


def role_events(model: str = "smollm2-135m", prompt: str = "The capital of France is", n_new: int = 3,
                arch: str = "wse3") -> dict:
    """Where a decode step's work goes: the emulator's event counts per token (wavelet hops,
    wavelets received, instructions, tensor elements, stalls; ``Fabric.pe_stats`` of every
    placed PE) summed by role, the program a PE runs (``gu`` and its mirror ``gu_m`` are one
    role: the mirrored half of the layers runs ``*_m`` programs), in bench_decode's two regimes:
    ``prompt`` over the steps of ``prompt`` + ``n_new`` tokens (those before the full-chain
    positions: tiny's chains are 8 PEs), ``full_chain`` over the
    positions 2 chain - 8 .. 2 chain - 1 (see ``_full_chain``). The decode is fed the numpy
    reference's greedy tokens and must produce them, else this raises. Each regime's per-role
    counts add up to the fabric's totals over its steps (``total``)."""
    from wse.isa import objfile

    from .fabric import FabricDecoder
    from .reference import ReferenceModel
    from .tokenizer import load_model

    w, tok = load_model(model)
    ids = tok.encode(prompt)
    dec = FabricDecoder(w, arch=arch)
    chain = dec.plan.layer.attn.chain
    first, n_steps = full_chain_steps(chain)
    n_prompt = min(len(ids) + n_new - 1, first)     # (a long prompt stops before the full chain)
    n_pos = first + n_steps
    seq = ids + ReferenceModel(w).generate(ids, max(1, n_pos + 1 - len(ids)))
    feed = seq[:n_pos]
    fab = dec.program.fabric
    obj = objfile.read(dec.program.obj)
    pes = [(x, y) for y in range(obj.height) for x in range(obj.width) if obj.image_at(x, y) is not None]
    role = {p: re.sub(r"_m$", "", obj.image_at(*p).name) for p in pes}
    keys = ("wavelet_hops", "wavelets_received", "instructions", "tensor_elements", "stalls")

    def snap():
        return {p: fab.pe_stats(*p) for p in pes}, fab.stats()

    def per_token(a, b, steps):
        out: dict = {}
        for p in pes:
            r = out.setdefault(role[p], dict.fromkeys(keys, 0))
            for k in keys:
                r[k] += b[0][p][k] - a[0][p][k]
        out = {r: {k: v / steps for k, v in c.items()} for r, c in out.items()}
        total = {k: (b[1][k] - a[1][k]) / steps for k in keys}
        return dict(sorted(out.items(), key=lambda kv: -kv[1]["wavelet_hops"])), total

    marks = {}
    for pos, t in enumerate(feed):
        if pos in (0, n_prompt, first):
            marks[pos] = snap()
        nxt = dec.step(t, pos)
        if pos >= len(ids) - 1 and nxt != seq[pos + 1]:
            raise AssertionError(f"role_events: at position {pos} the fabric's token is {nxt}, "
                                 f"the reference's {seq[pos + 1]}")
    marks["end"] = snap()
    pr, pt = per_token(marks[0], marks[n_prompt], n_prompt)
    fr, ft = per_token(marks[first], marks["end"], n_steps)
    return {"model": model, "prompt_positions": [0, n_prompt - 1],
            "full_chain_positions": [first, first + n_steps - 1],
            "prompt": {"roles": pr, "total": pt}, "full_chain": {"roles": fr, "total": ft}}


def format_roles(d: dict) -> str:
    """role_events as a table: per role, hops / received / instructions per token in the
    prompt regime and in the full-chain regime, then the totals."""
    a, b = d["prompt_positions"], d["full_chain_positions"]
    head = (f"{'role':10s} {'hops':>10s} {'received':>10s} {'instr':>10s}   "
            f"{'hops':>10s} {'received':>10s} {'instr':>10s}")
    lines = [f"{d['model']}: events per token at positions {a[0]}-{a[1]} | at positions {b[0]}-{b[1]}", head]
    rows = list(d["full_chain"]["roles"]) + ["total"]
    for r in rows:
        p = d["prompt"]["total"] if r == "total" else d["prompt"]["roles"][r]
        f = d["full_chain"]["total"] if r == "total" else d["full_chain"]["roles"][r]
        lines.append(f"{r:10s} {p['wavelet_hops']:10,.0f} {p['wavelets_received']:10,.0f} {p['instructions']:10,.0f}   "
                     f"{f['wavelet_hops']:10,.0f} {f['wavelets_received']:10,.0f} {f['instructions']:10,.0f}")
    return "\n".join(lines)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--context-check", "context_check", is_flag=True,
              help="Decode greedily through the whole context (or POSITIONS), checking every step "
                   "against FabricModel bit for bit and against the float32 reference; exit 1 on a "
                   "mismatch (~35 min for SmolLM2).")
@click.option("--roles", is_flag=True,
              help="Where the work goes: events per token (hops, received, instructions) by role, "
                   "at the prompt's positions and at the full-chain positions ([MODEL], default "
                   "smollm2-135m).")
@click.option("--json", "as_json", is_flag=True, help="With --roles: print the figures as JSON.")
@click.option("--every", type=click.IntRange(min=1), default=128, show_default=True,
              help="With --context-check: a progress line (with the step's cycles) every N positions.")
@click.option("--window", "win", metavar="FIRST:END",
              help="Time positions FIRST .. END-1 only (greedy from the prompt; [MODEL], default "
                   "smollm2-135m): JSON of the medians over them, the numpy reference's too.")
@click.option("--perf-ctl", "perf_ctl", metavar="FIFO", type=click.Path(),
              help="With --window: write enable/disable to FIFO around each fabric step of it, for "
                   "`perf record --control=fifo:FIFO -D -1 -- python -m ...` (a profile of the "
                   "window only).")
@click.argument("model", required=False)
@click.argument("positions", required=False, type=int)
def main(context_check: bool, roles: bool, as_json: bool, every: int, win: str | None,
         perf_ctl: str | None, model: str | None, positions: int | None) -> None:
    """Benchmark of the all-fabric SmolLM2 decode: prints bench_decode's figures as JSON
    (emulator and numpy ms per token, their ratio at positions 0-6 and 56-63, cycles, PEs).

    With --context-check [MODEL [POSITIONS]] (MODEL: tiny, smollm2-135m or a GGUF path; default
    smollm2-135m): the whole-context check, one JSON progress line every --every positions, then
    the result. With --roles [MODEL]: role_events' table (or JSON with --json). With --window
    FIRST:END [MODEL]: those positions only, timed (and profiled, with --perf-ctl)."""
    import sys

    from .errors import LLMError

    if roles and context_check or win and (roles or context_check):
        raise click.UsageError("--roles, --context-check and --window are separate runs: give one")
    if perf_ctl and not win:
        raise click.UsageError("--perf-ctl goes with --window")
    if win:
        m = re.fullmatch(r"(\d+):(\d+)", win)
        if not m:
            raise click.UsageError(f"--window {win}: give FIRST:END, e.g. 56:64")
        if positions is not None:
            raise click.UsageError("--window takes MODEL only")
        try:
            out = window(int(m.group(1)), int(m.group(2)), model or "smollm2-135m", perf_ctl=perf_ctl)
        except (LLMError, OSError) as e:
            click.echo(f"fabric_bench: error: {e}", err=True)
            sys.exit(2)
        print(json.dumps(out, indent=2))
        return
    if as_json and not roles:
        raise click.UsageError("--json goes with --roles (the benchmark always prints JSON)")
    if roles:
        if positions is not None:
            raise click.UsageError("--roles takes MODEL only")
        try:
            d = role_events(model or "smollm2-135m")
        except LLMError as e:
            click.echo(f"fabric_bench: error: {e}", err=True)
            sys.exit(2)
        print(json.dumps(d, indent=2) if as_json else format_roles(d))
        return
    if not context_check:
        if model is not None:
            raise click.UsageError("MODEL and POSITIONS go with --context-check; the benchmark "
                                   "always decodes smollm2-135m")
        print(json.dumps(bench_decode(), indent=2))
        return
    try:
        out = check_context(model or "smollm2-135m", positions, every=every,
                            progress=lambda d: print(json.dumps(d), flush=True))
    except LLMError as e:
        click.echo(f"fabric_bench: error: {e}", err=True)
        sys.exit(2)
    print(json.dumps(out, indent=2))
    sys.exit(1 if out["mismatches"] else 0)


if __name__ == "__main__":
    import sys

    from wse.kernels._cli import guarded
    sys.exit(guarded("python -m wse.kernels.llm.fabric_bench", main))
