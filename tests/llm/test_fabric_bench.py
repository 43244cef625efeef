"""The decode benchmark (``wse.kernels.llm.fabric_bench``, the ``decode`` section of
``wse-bench --json``) on the tiny model: its keys and the two position regimes it reports."""

from wse.kernels.llm.fabric_bench import bench_decode


def test_bench_decode_tiny_keys_and_full_chain():
    # bench_decode raises if the fabric's greedy tokens differ from the numpy reference's, in
    # either regime, so reaching the asserts means both decodes were checked token for token.
    d = bench_decode(model="tiny", prompt="hello world", n_new=3, arch="wse2")
    for k in ("decode_wall_ms_per_token", "numpy_ms_per_token", "decode_ratio",
              "decode_cycles_per_token", "decode_projected_tokens_per_s", "decode_pes",
              "decode_host_mem_mb"):
        assert d[k] > 0, k
    assert abs(d["decode_ratio"] - d["decode_wall_ms_per_token"] / d["numpy_ms_per_token"]) < 1e-9
    first, last = d["decode_full_chain_positions"]
    assert last - first == 7 and first >= 1
    # every chain PE takes part from pos = chain on: more traffic and more cycles per step than
    # at the prompt's small positions, where only the PEs holding a position join in
    assert d["decode_full_chain_wavelet_hops_per_token"] > d["decode_wavelet_hops_per_token"]
    assert d["decode_full_chain_cycles_per_token"] >= d["decode_cycles_per_token"]
    assert d["decode_full_chain_ratio"] > 0


def test_bench_decode_wall_is_the_prompt_regime(monkeypatch):
    """decode_wall_ms_per_token is the median over the prompt + n_new steps only: the full-chain
    run goes through the same decoder's stats afterwards (positions up to chain + 7), and once
    mixed those steps into this figure."""
    import numpy as np
    from wse.kernels.llm import fabric as F

    seen = []
    orig = F.FabricDecoder.generate

    def generate(self, *a, **k):
        out = orig(self, *a, **k)
        seen.append(list(self.stats.wall))
        return out

    monkeypatch.setattr(F.FabricDecoder, "generate", generate)
    d = bench_decode(model="tiny", prompt="hello world", n_new=3, arch="wse2")
    assert len(seen) == 1
    assert d["decode_wall_ms_per_token"] == float(np.median(seen[0])) * 1e3
