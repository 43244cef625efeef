"""Plain records shared by the C-backed Fabric and the pure-Python reference interpreter (no
dependency on the C core, so the reference stays an independent spec)."""
from __future__ import annotations

from typing import NamedTuple


class Received(NamedTuple):
    """A wavelet that left the fabric through an edge port, delivered to the host."""
    x: int
    y: int
    port: int
    color: int
    payload: int
    ctrl: bool
    cycle: int
