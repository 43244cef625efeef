"""Cross-check of the numpy reference against HF transformers (``wse.kernels.llm.hf_compare``).

Optional: needs ``torch`` (pin ``torch==2.13.0``; an unpinned torch pulls a multi-GB CUDA build),
``transformers`` and ``accelerate``::

    pip install torch==2.13.0 transformers accelerate

The HF model is ``LlamaForCausalLM`` loaded from the *same* GGUF file
(``from_pretrained(dir, gguf_file=name)``). transformers dequantizes the tensors with the gguf
library (as :mod:`~wse.kernels.llm.weights` does) and un-permutes Q/K to its half-split RoPE
layout itself. Every parameter is then rounded to float16 and used in float32
(``p.copy_(p.half().float())``), so HF and the reference hold identical weight values and run in
float32 on the CPU with eager attention; the remaining differences are summation order and the
float32 RoPE angle computation of HF (``inv_freq`` and ``pos * inv_freq`` in float32, where the
reference uses float64 angles rounded once).

HF is run like the reference: one token per forward call with its KV cache, so each row of logits
is directly comparable.
"""

from __future__ import annotations

import contextlib
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from .errors import MissingPackageError

HF_INSTALL = "pip install torch==2.13.0 transformers accelerate"


def _is_wse_kernels_dir(d: Path) -> bool:
    """Is ``d`` the source folder of ``wse.kernels`` (the top-level ``kernels/`` of a checkout)?"""
    return (d / "__init__.py").is_file() and (d / "llm" / "hf_compare.py").is_file()


def _unshadow_hub_kernels() -> None:
    """transformers 5.x imports the PyPI package ``kernels`` (HF hub kernels). With the root of a
    checkout of this repository on ``sys.path`` (``python -m`` run from the root, as the README's
    test command does), the folder ``kernels/``, which is the source of ``wse.kernels``, shadows
    that package and transformers fails with "cannot import name ... from 'kernels'". Import the
    package once with those entries out of the path, so that ``sys.modules['kernels']`` is the
    real one; nothing changes when it is not installed or nothing shadows it."""
    import importlib
    import sys

    mod = sys.modules.get("kernels")
    if mod is not None and not _is_wse_kernels_dir(Path(getattr(mod, "__file__", None) or ".").resolve().parent):
        return
    shadows = [p for p in sys.path if _is_wse_kernels_dir(Path(p or ".").resolve() / "kernels")]
    if not shadows:
        return
    saved = list(sys.path)
    sys.modules.pop("kernels", None)
    try:
        sys.path[:] = [p for p in sys.path if p not in shadows]
        try:
            importlib.import_module("kernels")
        except ImportError:
            sys.modules.pop("kernels", None)   # not installed: transformers does not import it
    finally:
        sys.path[:] = saved


def require_hf():
    """Import and return ``(torch, transformers)``, or raise :class:`MissingPackageError`."""
    _unshadow_hub_kernels()
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise MissingPackageError(
            f"the HF comparison needs torch and transformers ({exc.name} is missing); install with: {HF_INSTALL}"
        ) from None
    return torch, transformers


@contextlib.contextmanager
def _quiet_gguf_progress_bar():
    """transformers' GGUF loader draws a tqdm bar of its own (not covered by
    ``disable_progress_bar``); silence it while loading."""
    try:
        import transformers.modeling_gguf_pytorch_utils as gguf_utils
    except ImportError:  # pragma: no cover - layout of other transformers versions
        yield
        return
    original = getattr(gguf_utils, "tqdm", None)
    if original is None:  # pragma: no cover
        yield
        return
    gguf_utils.tqdm = functools.partial(original, disable=True)
    try:
        yield
    finally:
        gguf_utils.tqdm = original


def load_hf_model(gguf_path: "os.PathLike[str] | str", *, round_fp16: bool = True):
    """``LlamaForCausalLM`` from a GGUF file, float32, eager attention, eval mode, on CPU.

    With ``round_fp16`` every parameter is replaced by ``p.half().float()`` (the reference's
    weight values).
    """
    torch, transformers = require_hf()
    from transformers import LlamaForCausalLM

    transformers.logging.set_verbosity_error()
    try:
        transformers.utils.logging.disable_progress_bar()
    except AttributeError:  # pragma: no cover - older transformers
        pass
    p = Path(gguf_path)
    kwargs = dict(gguf_file=p.name, attn_implementation="eager")
    with _quiet_gguf_progress_bar():
        try:
            model = LlamaForCausalLM.from_pretrained(str(p.parent), dtype=torch.float32, **kwargs)
        except TypeError:  # pragma: no cover - transformers < 4.56 calls it torch_dtype
            model = LlamaForCausalLM.from_pretrained(str(p.parent), torch_dtype=torch.float32, **kwargs)
    model.eval()
    if round_fp16:
        with torch.no_grad():
            for param in model.parameters():
                param.copy_(param.half().float())
    return model


def _cache_argument(model) -> str:
    """Name of the KV-cache argument of ``model.forward``: ``cache`` from transformers 5.2x on
    (``past_key_values`` is deprecated there), ``past_key_values`` before."""
    import inspect

    params = inspect.signature(model.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def _step(model, torch, tok: int, pos: int, cache, cache_arg: str):
    out = model(
        input_ids=torch.tensor([[int(tok)]]),
        position_ids=torch.tensor([[int(pos)]]),
        use_cache=True,
        **{cache_arg: cache},
    )
    new_cache = getattr(out, "cache", None)
    if new_cache is None:
        new_cache = out.past_key_values
    return out.logits[0, -1].float().numpy().copy(), new_cache


def hf_decode_logits(model, token_ids: Sequence[int]) -> np.ndarray:
    """Feed ``token_ids`` one per forward call (KV cache); float32 logits ``(len, vocab)``."""
    torch, _ = require_hf()
    cache_arg = _cache_argument(model)
    rows = []
    cache = None
    with torch.no_grad():
        for pos, tok in enumerate(token_ids):
            row, cache = _step(model, torch, tok, pos, cache, cache_arg)
            rows.append(row)
    return np.stack(rows)


def hf_greedy(model, prompt_ids: Sequence[int], n: int) -> tuple[list[int], np.ndarray]:
    """Greedy decode with HF, same protocol as ``ReferenceModel.generate(..., return_logits=True)``:
    ``(new_ids, logits)`` with ``len(prompt) + n - 1`` logits rows."""
    torch, _ = require_hf()
    cache_arg = _cache_argument(model)
    rows: list[np.ndarray] = []
    new: list[int] = []
    cache = None
    pos = 0
    feed = list(prompt_ids)
    with torch.no_grad():
        while True:
            for tok in feed:
                row, cache = _step(model, torch, tok, pos, cache, cache_arg)
                rows.append(row)
                pos += 1
            nxt = int(np.argmax(rows[-1]))
            new.append(nxt)
            if len(new) == n:
                break
            feed = [nxt]
    return new, np.stack(rows)


@dataclass
class Comparison:
    """Result of :func:`compare_with_hf`."""

    prompt_ids: list[int]
    ref_new: list[int]
    hf_new: list[int]
    max_abs_diff: np.ndarray  # per step (row of logits), float64
    logit_scale: np.ndarray  # per step max |logit| of HF
    top2_margin: np.ndarray  # per step HF's gap between the best and second-best logit

    @property
    def tokens_match(self) -> bool:
        return self.ref_new == self.hf_new

    def table(self, decode=None) -> str:
        """Human-readable per-step report."""
        lines = [f"{'pos':>4} {'token fed':>9} {'max|ref-hf|':>12} {'max|logit|':>10} {'top2 gap':>9}  text"]
        fed = self.prompt_ids + self.hf_new[:-1]
        for i, d in enumerate(self.max_abs_diff):
            tok = fed[i]
            text = repr(decode([tok])) if decode else ""
            lines.append(f"{i:>4} {tok:>9} {d:>12.3e} {self.logit_scale[i]:>10.3f} {self.top2_margin[i]:>9.4f}  {text}")
        lines.append(
            f"max over {len(self.max_abs_diff)} steps: {self.max_abs_diff.max():.3e} "
            f"(mean {self.max_abs_diff.mean():.3e}); greedy tokens {'match' if self.tokens_match else 'DIFFER'}"
        )
        return "\n".join(lines)


def compare_with_hf(ref_model, hf_model, prompt_ids: Sequence[int], n: int, *, hf_result: Optional[tuple] = None) -> Comparison:
    """Greedy-decode ``n`` tokens with both models and compare every step's logits."""
    ref_new, ref_logits = ref_model.generate(list(prompt_ids), n, return_logits=True)
    hf_new, hf_logits = hf_result if hf_result is not None else hf_greedy(hf_model, prompt_ids, n)
    steps = min(len(ref_logits), len(hf_logits))
    diff = np.abs(ref_logits[:steps].astype(np.float64) - hf_logits[:steps].astype(np.float64)).max(axis=1)
    top2 = np.sort(hf_logits[:steps], axis=1)[:, -2:]
    return Comparison(
        prompt_ids=list(prompt_ids),
        ref_new=ref_new,
        hf_new=hf_new,
        max_abs_diff=diff,
        logit_scale=np.abs(hf_logits[:steps]).max(axis=1).astype(np.float64),
        top2_margin=(top2[:, 1] - top2[:, 0]).astype(np.float64),
    )


def reference_logits(ref_model, token_ids: Sequence[int]) -> np.ndarray:
    """The reference's float32 logits ``(len, vocab)`` for ``token_ids`` fed one per step from
    position 0 (teacher forcing: the same tokens whatever the model would pick)."""
    ref_model.reset()
    return np.stack([ref_model.step(tok, pos) for pos, tok in enumerate(token_ids)])


def storage_effects(weights, hf_model, gguf_path, token_ids: Sequence[int], hf_logits=None) -> dict:
    """How much two storage choices the decode does not make would move the logits, each against
    the same model with the choice made, over the same tokens (so summation order plays no part):

    - ``fp32_weights``: HF with the GGUF's unrounded float32 weights against HF with them rounded
      to float16 (``hf_model``, from :func:`load_hf_model`);
    - ``fp16_kv``: the reference with a float16 KV cache against its float32 one.

    Each is the largest |logit difference| of each step (float64, one per token). ``hf_logits``:
    ``hf_model``'s logits for ``token_ids`` when the caller has them (hf_greedy's), else computed."""
    from .reference import ReferenceModel

    hf16 = (hf_decode_logits(hf_model, token_ids) if hf_logits is None else hf_logits).astype(np.float64)
    hf32 = hf_decode_logits(load_hf_model(gguf_path, round_fp16=False), token_ids).astype(np.float64)
    kv32 = reference_logits(ReferenceModel(weights), token_ids).astype(np.float64)
    kv16 = reference_logits(ReferenceModel(weights, kv_dtype=np.float16), token_ids).astype(np.float64)
    return {"fp32_weights": np.abs(hf32 - hf16).max(axis=1), "fp16_kv": np.abs(kv16 - kv32).max(axis=1)}
