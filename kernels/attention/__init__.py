"""Attention decode on the fabric: one KV head's cache spread over a chain of PEs.

* ``attn_decode.s`` -- the kernel (append K/V, scores, chain max, software exp, weighted V,
  chain sum, normalisation); see its header and docs/decode.md.
* :mod:`.model` -- the numpy mirror (same order and software math, bit for bit).
* :mod:`.run` -- :class:`AttentionChain`, the host driver that streams one step's packet and
  reads the head outputs back.
"""

from .model import AttentionModel
from .run import AttentionChain

__all__ = ["AttentionChain", "AttentionModel"]
