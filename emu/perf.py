"""Emulator performance measurements (not timed tests): `python -m wse.emu.perf`.

Three programs, built with wse.isa.builder, each run several times (median wall time):

- scalar:    every PE of a 64x64 fabric runs a 3-instruction scalar loop -> instructions/s
- multicast: 64 rows of a 64x64 fabric; the host streams wavelets into the West edge, every PE
             passes them East and takes a copy (rx=W, tx={E,RAMP}) into a fabin op -> hops/s
- fmacs:     one PE repeats fmacs over 4000 contiguous fp32 elements -> elements/s, compared
             with numpy's `np.add(a, b * s, out=d)` on the same size.
"""
from __future__ import annotations

import json
import statistics
import sys
import time

import numpy as np

from wse.isa import objfile
from wse.isa.builder import ImageBuilder

from .fabric import Fabric

NORTH, EAST, SOUTH, WEST, RAMP = 1, 2, 4, 8, 16


def _li(b, r, v):
    v &= 0xFFFFFFFF
    b.emit("lui", r1=r, uimm16=v >> 16)
    b.emit("ori", r1=r, r2=r, uimm16=v & 0xFFFF)


def build_scalar(width=64, height=64, iters=20000, arch="wse2") -> bytes:
    b = ImageBuilder("scalar")
    b.label("main")
    _li(b, 1, iters)
    b.label("top")
    b.emit("addi", r1=1, r2=1, imm16=-1)
    b.emit("add", r1=2, r2=2, r3=1)
    b.emit("bne", r1=1, r2=0, target="top")
    b.emit("exit")
    b.task(0, "main", activated=True)
    img = b.build()
    return objfile.ObjectFile.from_pe_images(
        arch, width, height, {(x, y): img for x in range(width) for y in range(height)}).to_bytes()


def build_multicast(width=64, height=64, n=2000, arch="wse2", color=3) -> bytes:
    imgs = {}
    for last in (False, True):
        b = ImageBuilder("mc_last" if last else "mc")
        b.alloc("sink", "u32", 1)
        b.dsd("mem1d", base="sink", length=n, stride=0)
        b.dsd("fabin", length=n, color=color)
        b.label("main")
        b.emit("ldsd", dsr=0, dsdidx=0)
        b.emit("ldsd", dsr=8, dsdidx=1)
        b.emit("mov32", dd=0, da=0)
        b.emit("exit")
        b.task(0, "main", activated=True)
        b.route(color, (WEST, RAMP if last else EAST | RAMP))
        imgs[last] = b.build()
    pes = {(x, y): imgs[x == width - 1] for x in range(width) for y in range(height)}
    return objfile.ObjectFile.from_pe_images(arch, width, height, pes).to_bytes()


def build_fmacs(n=4000, reps=200, arch="wse2") -> bytes:
    b = ImageBuilder("fmacs")
    b.alloc("a", "f32", n, init=1.0)
    b.alloc("bb", "f32", n, init=0.5)
    b.alloc("d", "f32", n)
    b.dsd("mem1d", base="d", length=n)
    b.dsd("mem1d", base="a", length=n)
    b.dsd("mem1d", base="bb", length=n)
    b.label("main")
    b.emit("ldsd", dsr=0, dsdidx=0)
    b.emit("ldsd", dsr=8, dsdidx=1)
    b.emit("ldsd", dsr=16, dsdidx=2)
    _li(b, 3, int(np.float32(1.25).view(np.uint32)))
    _li(b, 1, reps)
    b.label("top")
    b.emit("fmacs", dd=0, da=0, db=0, rs=3)
    b.emit("addi", r1=1, r2=1, imm16=-1)
    b.emit("bne", r1=1, r2=0, target="top")
    b.emit("exit")
    b.task(0, "main", activated=True)
    return objfile.ObjectFile.from_pe_images(arch, 1, 1, {(0, 0): b.build()}).to_bytes()


def _median_run(make, repeats):
    times, last = [], None
    for _ in range(repeats):
        fab = make()
        t0 = time.perf_counter()
        fab.run()
        times.append(time.perf_counter() - t0)
        last = fab
    return statistics.median(times), last


def measure_scalar(repeats=3, width=64, height=64, iters=20000) -> dict:
    data = build_scalar(width, height, iters)
    sec, fab = _median_run(lambda: Fabric.from_object(data), repeats)
    st = fab.stats()
    return {"name": "scalar", "seconds": sec, "instructions": st["instructions"],
            "cycles": st["cycles"], "instructions_per_s": st["instructions"] / sec}


def measure_multicast(repeats=3, width=64, height=64, n=2000) -> dict:
    data = build_multicast(width, height, n)
    payload = np.arange(n, dtype=np.uint32)

    def make():
        fab = Fabric.from_object(data)
        for y in range(height):
            fab.send(3, 0, y, "west", payload)
        return fab
    sec, fab = _median_run(make, repeats)
    st = fab.stats()
    return {"name": "multicast", "seconds": sec, "wavelet_hops": st["wavelet_hops"],
            "cycles": st["cycles"], "hops_per_s": st["wavelet_hops"] / sec}


def measure_fmacs(repeats=5, n=4000, reps=200) -> dict:
    data = build_fmacs(n, reps)
    sec, fab = _median_run(lambda: Fabric.from_object(data), repeats)
    elems = n * reps
    a = np.ones(n, np.float32)
    b = np.full(n, 0.5, np.float32)
    d = np.empty(n, np.float32)
    tmp = np.empty(n, np.float32)
    s = np.float32(1.25)
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(reps):
            np.multiply(b, s, out=tmp)
            np.add(a, tmp, out=d)
        ts.append(time.perf_counter() - t0)
    nsec = statistics.median(ts)
    return {"name": "fmacs", "seconds": sec, "elements": elems, "elements_per_s": elems / sec,
            "numpy_elements_per_s": elems / nsec, "ratio_to_numpy": nsec / sec,
            "cycles": fab.stats()["cycles"]}


def measure_all(repeats=3) -> dict:
    return {"scalar": measure_scalar(repeats), "multicast": measure_multicast(repeats),
            "fmacs": measure_fmacs(max(repeats, 5))}


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m wse.emu.perf",
                                 description="Emulator micro-benchmarks (scalar instructions/s, "
                                 "multicast wavelet hops/s, fmacs elements/s against numpy); medians of repeated runs.")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    res = measure_all()
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        s, m, f = res["scalar"], res["multicast"], res["fmacs"]
        print(f"scalar:    {s['instructions_per_s']:.3g} instructions/s ({s['instructions']} in {s['seconds']:.2f} s)")
        print(f"multicast: {m['hops_per_s']:.3g} wavelet hops/s ({m['wavelet_hops']} in {m['seconds']:.2f} s)")
        print(f"fmacs:     {f['elements_per_s']:.3g} elements/s; numpy {f['numpy_elements_per_s']:.3g}/s "
              f"(ratio {f['ratio_to_numpy']:.2f})")
    return 0


if __name__ == "__main__":  # pragma: no cover
    from wse.cli.launch import run      # (as wse.kernels._cli.guarded, which emu/ may not import)
    prog = "python -m wse.emu.perf"
    sys.exit(run(prog, main, spec=(None, "argv", f"{prog}: error: ", 2, 2, 2)))
