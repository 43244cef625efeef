"""Exceptions of ``wse.kernels.llm``.

Every error this package raises on purpose is an :class:`LLMError`, so a command-line front end can
print its message and exit without a traceback.
"""

from __future__ import annotations


class LLMError(Exception):
    """Base class of the errors raised by ``wse.kernels.llm``."""


class ConfigError(LLMError, ValueError):
    """A model configuration is inconsistent or unknown."""


class GGUFError(LLMError, ValueError):
    """A GGUF file is missing, unreadable, or not a Llama model this package can load."""


class MissingPackageError(LLMError, ImportError):
    """An optional package is not installed; the message says how to install it."""


def check_index(what: str, v, n: int) -> int:
    """``v`` as an int in 0..n-1 (a Python or numpy integer: floats, bools and strings are
    refused rather than truncated), or an LLMError naming ``what``."""
    import numpy as np

    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        raise LLMError(f"{what} must be an integer, got {v!r}")
    v = int(v)
    if not 0 <= v < n:
        raise LLMError(f"{what} {v} out of range 0..{n - 1}")
    return v


def check_prompt(prompt_ids, n, context: int) -> list[int]:
    """The prompt of a ``generate`` as a list of ints, and ``n`` (new tokens, >= 1) checked
    against the context."""
    try:
        ids = list(prompt_ids)
    except TypeError:
        raise LLMError(f"the prompt must be a sequence of token ids, got {prompt_ids!r}") from None
    if not ids:
        raise LLMError("the prompt encodes to no tokens: give a prompt with some text in it")
    import numpy as np

    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise LLMError(f"n (new tokens) must be an integer, got {n!r}")
    n = int(n)
    if n < 1:
        raise LLMError(f"n (new tokens) must be at least 1, got {n}")
    # the prompt takes positions 0..len-1 and every new token but the last is fed back, so the
    # decode uses len + n - 1 positions
    if len(ids) + n - 1 > context:
        raise LLMError(f"prompt ({len(ids)}) + {n} new tokens exceed the context {context} (they "
                       f"need {len(ids) + n - 1} positions)")
    return ids


def check_eos(eos_id, vocab: int):
    """``eos_id``: None or a token id."""
    return None if eos_id is None else check_index("eos_id", eos_id, vocab)
