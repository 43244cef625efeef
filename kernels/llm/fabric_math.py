"""Software math of the fabric decode, op by op in numpy float32 (``wse.kernels.llm.fabric_math``).

The ISA has no exp, divide or square root. The decode kernels compute them with the sequences
below, one tensor (or scalar) instruction per numpy statement, every intermediate rounded to
float32 exactly as the emulator rounds it (IEEE round-to-nearest-even, products rounded before
the add of a mac). The numpy model of the fabric decode (:mod:`.fabric_model`) uses these
functions, so it predicts the fabric's numbers bit for bit, and the kernels' tests compare the
emulated results with them.

Algorithms (docs/decode.md, "Software math"):

``exp`` (vector, fp32)
    clamp x to [-87, 88]; t = x * log2(e); u = t + 1.5*2^23 (its low 16 bits hold n =
    round(t) as int16); n = u - 1.5*2^23; r = x - n*ln2_hi - n*ln2_lo (two fmacs);
    p = degree-7 Taylor polynomial of e^r by Horner (|r| <= 0.347: truncation < 6e-9);
    then 2^n is applied by adding n << 7 to the high 16-bit half of p (its exponent field),
    with 16-bit integer tensor ops. Relative error ~2 ulp on the whole range.

``recip`` (vector, fp32, positive normal inputs)
    y0: high half = 0x7EF3 - high half of x, low half 0 (16-bit integer ops; error < 5.6%),
    then 3 Newton steps y = y * (2 - x*y) (error 5.6e-2 -> 3e-3 -> 1e-5 -> 1e-10, then
    rounding).

``recip_scalar`` / ``rsqrt_scalar`` (scalar registers)
    32-bit magic-constant initial guesses (0x7EF311C7 - i and 0x5F3759DF - (i >> 1)) and 4
    Newton steps with mulf/subf.

``silu`` (vector)
    z * recip(1 + exp(-z)), with exp's argument clamped to at most 80 so that the reciprocal
    stays a normal number.
"""

from __future__ import annotations

import numpy as np

F32 = np.float32

EXP_LO = F32(-87.0)
EXP_HI = F32(88.0)
LOG2E = F32(1.4426950408889634)
MAGIC = F32(12582912.0)  # 1.5 * 2**23: adding it rounds to an integer kept in the low mantissa bits
LN2_HI = F32(0.693145751953125)  # 0x3F317200: ln 2 with its low 12 bits zero (n*LN2_HI is exact)
LN2_LO = F32(1.4286067653302226e-06)  # ln 2 - LN2_HI
#: Horner coefficients of the degree-7 Taylor polynomial of e^r, highest degree first.
EXP_POLY = tuple(F32(1.0 / f) for f in (5040.0, 720.0, 120.0, 24.0, 6.0, 2.0, 1.0, 1.0))
RECIP_MAGIC_HI = 0x7EF3
RECIP_STEPS = 3
SILU_EXP_MAX = F32(80.0)


def _f32(x) -> np.ndarray:
    return np.array(x, dtype=F32, copy=True)


def exp(x: np.ndarray) -> np.ndarray:
    """e^x for a float32 vector, exactly as kernels/attention/math.inc computes it."""
    x = _f32(x)
    x = np.maximum(x, EXP_LO)  # fmaxs  x, x, -87
    x = -np.maximum(-x, -EXP_HI)  # fnegs; fmaxs with -88; fnegs  (there is no fmins)
    t = x * LOG2E  # fmuls vs
    u = t + MAGIC  # fadds vs
    n = u - MAGIC  # fsubs vs
    r = x + n * (-LN2_HI)  # fmacs: product rounded, then the add
    r = r + n * (-LN2_LO)  # fmacs
    p = np.full_like(r, EXP_POLY[0])  # fmovs fill
    for c in EXP_POLY[1:]:
        p = p * r  # fmuls vv
        p = p + c  # fadds vs
    # 2^n: the low 16 bits of u are n (two's complement); shift into the exponent field of the
    # high half (bit 7 of the high half is bit 23 of the word) and add (sll16, add16).
    ni = u.view(np.uint32) & np.uint32(0xFFFF)
    shifted = (ni << np.uint32(7)) & np.uint32(0xFFFF)
    pb = p.view(np.uint32)
    hi = ((pb >> np.uint32(16)) + shifted) & np.uint32(0xFFFF)
    out = ((hi << np.uint32(16)) | (pb & np.uint32(0xFFFF))).astype(np.uint32)
    return out.view(F32)


def recip(x: np.ndarray) -> np.ndarray:
    """1/x for a float32 vector of positive normal numbers (Newton from a 16-bit guess)."""
    x = _f32(x)
    hi = (np.uint32(RECIP_MAGIC_HI) - (x.view(np.uint32) >> np.uint32(16))) & np.uint32(0xFFFF)
    y = (hi << np.uint32(16)).astype(np.uint32).view(F32).copy()  # sub16 into the high halves, low halves 0
    for _ in range(RECIP_STEPS):
        t = x * y  # fmuls vv
        t = F32(2.0) + t * F32(-1.0)  # fmacs: twos + t * -1  (exact negation, then the add)
        y = y * t  # fmuls vv
    return y


def silu(z: np.ndarray) -> np.ndarray:
    """z * sigmoid(z) = z * recip(1 + exp(-z)), float32, op by op."""
    z = _f32(z)
    m = -z  # fnegs
    m = -np.maximum(-m, -SILU_EXP_MAX)  # clamp -z <= 80 (fnegs, fmaxs, fnegs)
    e = exp(m)
    d = e + F32(1.0)  # fadds vs
    return z * recip(d)  # fmuls vv


def _bits(x: F32) -> int:
    return int(np.array(x, dtype=F32).view(np.uint32))


def _from_bits(i: int) -> F32:
    return np.array(i & 0xFFFFFFFF, dtype=np.uint32).view(F32)[()]


def recip_scalar(x) -> F32:
    """1/x for one positive normal float32 (scalar registers: sub, mulf, subf)."""
    x = F32(x)
    y = _from_bits(0x7EF311C7 - _bits(x))
    two = F32(2.0)
    for _ in range(4):
        y = y * (two - x * y)
    return F32(y)


def rsqrt_scalar(x) -> F32:
    """1/sqrt(x) for one positive normal float32 (scalar registers)."""
    x = F32(x)
    y = _from_bits(0x5F3759DF - (_bits(x) >> 1))
    h = x * F32(0.5)
    for _ in range(4):
        t = y * y
        t = h * t
        t = F32(1.5) - t
        y = y * t
    return F32(y)
