"""NumPy model of ``argmax.s``: the rule the kernel follows on every grid.

NaNs are ignored (as ``numpy.nanargmax``); ties (equal values, +0 and -0 included) go to the
lowest index (as ``numpy.argmax``); -inf is an ordinary number. If every element is NaN the
result is ``(x[0], 0)`` (``numpy.nanargmax`` raises ValueError instead).

This is numpy.nanargmax's rule except in one corner: numpy.nanargmax replaces NaNs with -inf,
so when the largest number is -inf and a NaN comes before it, numpy returns the NaN's index
(``nanargmax([nan, -inf]) == 0``); here, and on the fabric, NaNs are never the answer while a
number exists (``(-inf, 1)``).
"""
from __future__ import annotations

import numpy as np


def argmax_model(x) -> tuple[np.float32, int]:
    """(value, index) that ``wse.kernels.argmax.run.argmax`` returns for ``x`` on any grid."""
    x = np.asarray(x, np.float32).ravel()
    if not len(x):
        raise ValueError("x is empty")
    idx = np.flatnonzero(~np.isnan(x))
    if not len(idx):
        return x[0], 0
    i = int(idx[np.argmax(x[idx])])     # not numpy.nanargmax: see the module docstring
    return x[i], i
