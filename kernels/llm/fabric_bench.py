"""Benchmark of the all-fabric SmolLM2 decode (``wse.kernels.llm.fabric_bench``).

    python -m wse.kernels.llm.fabric_bench       # prints the dict as JSON
"""

from __future__ import annotations

import json
import resource
import time

import numpy as np


def bench_decode(model: str = "smollm2-135m", prompt: str = "The capital of France is", n_new: int = 3,
                 arch: str = "wse3") -> dict:
    """Decode ``prompt`` + ``n_new`` tokens with the fabric engine and with the numpy reference.

    decode_wall_ms_per_token: median emulator wall time of one step (send packet, run to idle,
    read the token); numpy_ms_per_token: median of ReferenceModel steps over the same tokens;
    decode_cycles_per_token: median emulated cycles of a step; projected tokens/s at the arch's
    clock; decode_host_mem_mb: peak RSS of this process (resource.getrusage);
    decode_{wavelets_received,wavelet_hops,instructions,tensor_elements}_per_token: the
    emulator's event counts (``Fabric.stats()``) over the whole decode divided by the steps (the
    work the program gives the emulator). The fabric tokens must equal the reference's, else
    this raises instead of reporting a time.
    """
    from .fabric import FabricDecoder
    from .reference import ReferenceModel
    from .tokenizer import load_tokenizer
    from .weights import load_weights

    w = load_weights(model)
    ids = load_tokenizer(model).encode(prompt)
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
    return {
        "decode_wall_ms_per_token": float(np.median(dec.stats.wall)) * 1e3,
        "numpy_ms_per_token": float(np.median(np_ms)),
        "decode_ratio": float(np.median(dec.stats.wall)) * 1e3 / float(np.median(np_ms)),
        "decode_cycles_per_token": cyc,
        "decode_projected_tokens_per_s": dec.clock_hz / cyc,
        "decode_pes": dec.pes_used,
        "decode_grid": list(dec.grid),
        "decode_build_s": build_s,
        "decode_host_mem_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **events,
    }


if __name__ == "__main__":
    print(json.dumps(bench_decode(), indent=2))
