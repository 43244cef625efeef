"""FabricDecoder engines and the `wse-llm` fabric command (tiny model)."""

import json

import numpy as np
import pytest

from wse.kernels.llm import ReferenceModel, tiny_weights
from wse.kernels.llm.cli import main
from wse.kernels.llm.fabric import FabricDecoder
from wse.kernels.llm.fabric_plan import FabricFitError


def test_model_engine_greedy_tokens_equal_reference():
    w = tiny_weights()
    prompt = list(b"The wafer")
    want = ReferenceModel(w).generate(prompt, 24)
    dec = FabricDecoder(w)
    assert dec.generate(prompt, 24) == want
    assert len(dec.stats.cycles) == len(prompt) + 23 and all(c > 0 for c in dec.stats.cycles)


def test_hybrid_engine_equals_model_engine_bit_for_bit():
    pytest.importorskip("wse.emu", reason="the emulator package is not importable")
    w = tiny_weights()
    hyb = FabricDecoder(w, engine="hybrid", arch="wse3")
    mod = FabricDecoder(w, arch="wse3")
    for pos, t in enumerate([72, 105, 33, 200]):
        th, lh = hyb.step(t, pos, want_logits=True)
        tm, lm = mod.step(t, pos, want_logits=True)
        assert th == tm and np.array_equal(lh, lm)
    # emulated attention replaces the estimate of attention: a different, positive count
    assert hyb.stats.cycles[-1] > 0 and hyb.stats.cycles[-1] != mod.stats.cycles[-1]


def test_small_grid_is_refused():
    with pytest.raises(FabricFitError, match="needs at least"):
        FabricDecoder(tiny_weights(), grid=(5, 5))


def test_cli_json(capsys):
    assert main(["--model", "tiny", "--prompt", "Hi", "-n", "5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("tokens", "text", "cycles_per_token", "projected_tokens_per_s", "wall_s_per_token", "grid", "pes_used"):
        assert key in out
    assert out["tokens"] == ReferenceModel(tiny_weights()).generate(list(b"Hi"), 5)
    assert out["pes_used"] == 53 and out["grid"] == [10, 17]
    assert out["projected_tokens_per_s"] == pytest.approx(850e6 / out["cycles_per_token"])


def test_cli_text_and_refusal(capsys):
    assert main(["-n", "3", "--prompt", "ab"]) == 0
    out = capsys.readouterr().out
    assert "cycles/token:" in out and "fabric:            10 x 17, 53 PEs used" in out
    assert main(["--grid", "3x3", "-n", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("wse-llm: error: ") and "does not fit a 3x3 fabric" in err
    assert main(["--grid", "banana"]) == 2
