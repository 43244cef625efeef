"""The decode benchmark (``wse.kernels.llm.fabric_bench``, the ``decode`` section of
``wse-bench --json``) on the tiny model: its keys and the two position regimes it reports."""

import pytest

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
    # tiny's chains are 8 PEs: positions 8-15, where the owner of pos is the chain's last PEs
    # at the end (the longest k, v relay)
    assert d["decode_full_chain_positions"] == [8, 15]
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


def test_compare_cores_a_against_itself():
    """wse-bench --against: a second copy of the installed core, loaded beside it, decodes the
    tiny model step for step with it; both give the reference's tokens (compare_cores raises
    otherwise) and end with identical statistics, and the per-step ratio is reported with its
    quartiles."""
    import wse.emu._core as installed
    from wse.kernels.llm.fabric_bench import compare_cores

    d = compare_cores(installed.__file__, model="tiny", prompt="hello world", n_new=4, arch="wse2",
                      rounds=2)
    assert d["ab_stats_identical"] is True
    assert len(d["ab_ratio_rounds"]) == 2 and all(r > 0 for r in d["ab_ratio_rounds"])
    assert d["ab_steps"] >= 8            # 2 rounds of the prompt + 4 new tokens, less the first step
    assert 0 < d["ab_ratio_q1"] <= d["ab_ratio"] <= d["ab_ratio_q3"]
    assert d["ab_this_ms_per_step"] > 0 and d["ab_other_ms_per_step"] > 0


def test_load_core_refuses_what_is_not_a_core(tmp_path):
    import pytest

    from wse.emu import fabric as FB
    from wse.emu.errors import CoreVersionError

    with pytest.raises(CoreVersionError, match="no core to load"):
        FB.load_core(tmp_path / "missing.so")
    bad = tmp_path / "_core.so"
    bad.write_bytes(b"not an ELF file")
    with pytest.raises(CoreVersionError, match=r"is not a shared object \(no ELF header\)"):
        FB.load_core(bad)


def test_use_core_restores_the_installed_core():
    import wse.emu._core as installed
    from wse.emu import fabric as FB

    other = FB.load_core(installed.__file__)
    assert other.lib is not installed.lib
    with FB.use_core(other):
        assert FB.lib is other.lib
        f = FB.Fabric(2, 2)
    assert FB.lib is installed.lib
    with FB.use_core(other):
        assert f.cycle == 0         # a fabric is driven under the core that created it


def test_bench_cli_against_errors():
    from click.testing import CliRunner

    from wse.kernels.bench import main

    r = CliRunner().invoke(main, ["--only", "ab"])
    assert r.exit_code == 2 and "--only ab needs --against" in r.output
    # a bad core is a usage error at once, before the minutes of the other sections (it used
    # to surface only after them, and with --only core not at all)
    for args in (["--only", "ab"], [], ["--json"]):
        r = CliRunner().invoke(main, args + ["--against", "/nonexistent/_core.so"])
        assert r.exit_code == 2 and "no core to load at /nonexistent/_core.so" in r.output
    r = CliRunner().invoke(main, ["--only", "core", "--against", "/nonexistent/_core.so"])
    assert r.exit_code == 2 and "--against is for the ab section" in r.output


def test_check_context_tiny_counts_mismatches_and_reports_progress(monkeypatch):
    """check_context (the whole-context command) runs greedy steps, compares each with the numpy
    mirror bit for bit and with the float32 reference (5e-5: the tiny test's bound), and reports
    progress; a mirror that disagrees at one step is counted, not hidden."""
    from wse.kernels.llm import fabric_model
    from wse.kernels.llm.fabric_bench import check_context

    seen = []
    out = check_context("tiny", 70, every=32, progress=seen.append)
    assert out["positions"] == 70 and out["mismatches"] == 0
    assert 0 < out["worst_vs_reference"] < 5e-5
    assert [d["pos"] for d in seen] == [0, 32, 64, 69]
    # the step's own hops: more once the chains are full (pos >= P - 1 = 7) than at position 0
    assert 0 < seen[0]["wavelet_hops"] < seen[1]["wavelet_hops"]
    assert out["cycles_last"] > out["cycles_first"]
    assert out["last8_positions"] == [62, 69] and out["last8_ratio"] > 0
    from wse.kernels.llm.errors import LLMError
    with pytest.raises(LLMError, match="3000 positions; tiny is planned for 1..2048"):
        check_context("tiny", 3000)

    real = fabric_model.FabricModel.step

    def off_at_5(self, token, pos):
        r = real(self, token, pos)
        if pos == 5:
            r.logits[0] += 1.0
        return r

    monkeypatch.setattr(fabric_model.FabricModel, "step", off_at_5)
    assert check_context("tiny", 8)["mismatches"] == 1


def test_fabric_bench_cli_help_and_bad_arguments_exit_2_in_one_line():
    """`python -m wse.kernels.llm.fabric_bench` is a click command: --help prints the usage
    instead of starting the benchmark, and every bad argument is one message with exit 2."""
    import json

    from click.testing import CliRunner

    from wse.kernels.llm.fabric_bench import main

    r = CliRunner()
    out = r.invoke(main, ["--help"])
    assert out.exit_code == 0 and "--context-check" in out.output and "[MODEL] [POSITIONS]" in out.output
    for args, msg in ((["--bogus"], "No such option"),
                      (["tiny"], "MODEL and POSITIONS go with --context-check"),
                      (["--context-check", "tiny", "x"], "'x' is not a valid integer"),
                      (["--context-check", "tiny", "3000"], "3000 positions; tiny is planned for 1..2048"),
                      (["--context-check", "tiny", "0"], "0 positions; tiny is planned for 1..2048"),
                      (["--context-check", "nosuch", "3"], "unknown model 'nosuch'"),
                      (["--context-check", "--every", "0", "tiny"], "--every")):
        out = r.invoke(main, args)
        assert out.exit_code == 2, (args, out.output)
        assert msg in out.output and "Traceback" not in out.output, (args, out.output)
    out = r.invoke(main, ["--context-check", "--every", "1", "tiny", "3"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert [json.loads(x)["pos"] for x in lines[:3]] == [0, 1, 2]
    res = json.loads("\n".join(lines[lines.index("{"):]))
    # 5e-5: the tiny test's bound, as in the check above
    assert res["positions"] == 3 and res["mismatches"] == 0 and 0 < res["worst_vs_reference"] < 5e-5


def test_role_events_tiny_add_up_and_only_attention_grows():
    """fabric_bench --roles: per-role events per token add up to the fabric's totals in both
    regimes, and from the prompt's positions to the full-chain ones only the attention's
    traffic grows (every other role's hops and wavelets do not depend on the position)."""
    from wse.kernels.llm.fabric_bench import format_roles, role_events

    d = role_events(model="tiny", prompt="hello world", n_new=3, arch="wse2")
    assert d["full_chain_positions"] == [8, 15]
    assert d["prompt_positions"][0] == 0 and d["prompt_positions"][1] < 8
    for regime in ("prompt", "full_chain"):
        roles, total = d[regime]["roles"], d[regime]["total"]
        assert {"attn", "qkv", "o", "gu", "down", "lm"} <= set(roles)
        for k, v in total.items():
            assert abs(sum(r[k] for r in roles.values()) - v) < 1e-6 * max(1.0, v), (regime, k)
    pr, fr = d["prompt"]["roles"], d["full_chain"]["roles"]
    assert fr["attn"]["wavelet_hops"] > pr["attn"]["wavelet_hops"]
    assert fr["attn"]["wavelets_received"] > pr["attn"]["wavelets_received"]
    for r in set(pr) - {"attn"}:
        for k in ("wavelet_hops", "wavelets_received"):
            assert fr[r][k] == pr[r][k], (r, k)
    table = format_roles(d).splitlines()
    assert table[0].startswith("tiny: events per token at positions 0-")
    assert table[-1].split()[0] == "total" and len(table) == len(fr) + 3


def test_fabric_bench_roles_cli():
    import json

    from click.testing import CliRunner

    from wse.kernels.llm.fabric_bench import main

    r = CliRunner()
    out = r.invoke(main, ["--roles", "--json", "tiny"])
    assert out.exit_code == 0, out.output
    d = json.loads(out.output)
    assert d["model"] == "tiny" and d["full_chain_positions"] == [8, 15]
    for args, msg in ((["--json"], "--json goes with --roles"),
                      (["--roles", "--context-check"], "separate runs"),
                      (["--roles", "tiny", "3"], "--roles takes MODEL only"),
                      (["--roles", "nosuch"], "unknown model 'nosuch'")):
        out = r.invoke(main, args)
        assert out.exit_code == 2, (args, out.output)
        assert msg in out.output and "Traceback" not in out.output, (args, out.output)


def test_fabric_bench_window_times_those_positions_and_drives_a_perf_fifo(tmp_path):
    """--window FIRST:END times positions FIRST..END-1 only (the medians and the event counts are
    the window's: at tiny's full-chain positions 8-15 the hops per token are those role_events
    reports there), and --perf-ctl writes "enable" before and "disable" after each fabric step of
    the window to the FIFO that perf record --control reads (here a plain reader thread)."""
    import json
    import os
    import threading

    from click.testing import CliRunner

    from wse.kernels.llm.fabric_bench import main, role_events

    fifo = tmp_path / "ctl"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    out = CliRunner().invoke(main, ["--window", "8:16", "--perf-ctl", str(fifo), "tiny"])
    reader.join(timeout=60)
    assert out.exit_code == 0, out.output
    d = json.loads(out.output)
    assert got == ["enable\ndisable\n" * 8]
    assert d["model"] == "tiny" and d["window"] == [8, 15]
    assert d["wall_ms_per_token"] > 0 and d["numpy_ms_per_token"] > 0 and d["cycles_per_token"] > 0
    assert abs(d["ratio"] - d["wall_ms_per_token"] / d["numpy_ms_per_token"]) < 1e-9
    roles = role_events(model="tiny", prompt="The capital of France is", n_new=3, arch="wse3")
    assert roles["full_chain_positions"] == [8, 15]
    assert d["wavelet_hops_per_token"] == roles["full_chain"]["total"]["wavelet_hops"]
    plain = tmp_path / "plain"
    plain.write_text("")
    r = CliRunner()
    for args, msg in ((["--window", "8-16"], "give FIRST:END"),
                      (["--window", "0:4", "--perf-ctl", str(plain), "tiny"], "not a FIFO; make one with mkfifo"),
                      (["--window", "0:4", "--perf-ctl", str(tmp_path / "none"), "tiny"],
                       f"--perf-ctl {tmp_path / 'none'}: No such file or directory; make one with mkfifo"),
                      (["--window", "9:9", "tiny"], "give FIRST:END with FIRST < END"),
                      (["--window", "0:4000", "tiny"], "planned for positions 0..2047"),
                      (["--window", "0:4", "--roles"], "separate runs"),
                      (["--perf-ctl", "x"], "--perf-ctl goes with --window"),
                      (["--window", "0:4", "tiny", "3"], "--window takes MODEL only")):
        out = r.invoke(main, args)
        assert out.exit_code == 2 and msg in out.output and "Traceback" not in out.output, (args, out.output)
