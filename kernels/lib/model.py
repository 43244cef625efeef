"""Bit-exact numpy models of the software math routines in ``kernels/lib/*.inc``.

Every step is one fp32 operation rounded to nearest even, in the same order as the assembly
(``macf`` is not fused: the product is rounded before the add), so the emulator's results must
equal these bit for bit. ``tests/kernels/test_math.py`` checks that, and measures the error of
both against float64 references (docs/math.md).
"""
from __future__ import annotations

import numpy as np

F = np.float32
ONE = F(1.0)
MAGIC = F(12582912.0)  # 1.5 * 2^23: adding it rounds to an integer (RNE)
MAGIC_BITS = 0x4B400000


def bits(x) -> np.ndarray:
    return np.asarray(x, F).view(np.uint32).astype(np.int64)


def from_bits(u) -> np.ndarray:
    return (np.asarray(u, np.int64) & 0xFFFFFFFF).astype(np.uint32).view(F)


def _split(x):
    """x = hi + lo with hi holding the top 12 significant bits (bits & 0xfffff000)."""
    hi = from_bits(bits(x) & 0xFFFFF000)
    return hi, (x - hi).astype(F)


# -- exp ------------------------------------------------------------------------------------
EXP_OVER = F(88.72283935546875)
EXP_UNDER = F(-103.972084)
LOG2E = F(1.44269504088896341)
EXP_C1 = F(0.693359375)
EXP_C2 = F(-2.12194440e-4)
EXP_P = [F(1.9875691500e-4), F(1.3981999507e-3), F(8.3334519073e-3), F(4.1665795894e-2),
         F(1.6666665459e-1), F(5.0000001201e-1)]


def exp_f32(x) -> np.ndarray:
    x = np.atleast_1d(np.asarray(x, F))
    with np.errstate(all="ignore"):
        t = x * LOG2E + MAGIC
        kf = t - MAGIC
        k = bits(t) - MAGIC_BITS
        r = x - kf * EXP_C1
        r = r - kf * EXP_C2
        z = r * r
        p = EXP_P[0]
        for c in EXP_P[1:]:
            p = c + p * r
        p = p * z
        p = p + r
        p = p + ONE
        normal = from_bits(bits(p) + (k << 23))
        small = from_bits(bits(p) + ((k + 64) << 23)) * F(2.0 ** -64)
        out = np.where(k < -125, small, normal)
        out = np.where(x < EXP_UNDER, F(0), out)
        out = np.where(x >= EXP_OVER, F(np.inf), out)
        out = np.where(np.isnan(x), x, out)
    return out.astype(F)


# -- reciprocal -----------------------------------------------------------------------------
def rcp_f32(x) -> np.ndarray:
    x = np.atleast_1d(np.asarray(x, F))
    with np.errstate(all="ignore"):
        sign = bits(x) & 0x80000000
        a = from_bits(bits(x) & 0x7FFFFFFF)
        e = bits(a) >> 23
        scale = np.where(e >= 191, F(2.0 ** -64), np.where(e < 63, F(2.0 ** 64), ONE)).astype(F)
        a = np.where(e >= 191, a * F(2.0 ** -64), np.where(e < 63, a * F(2.0 ** 64), a)).astype(F)
        scale = from_bits(bits(scale) | sign)
        y = from_bits(0x7EF311C3 - bits(a))
        for _ in range(2):
            d = ONE - a * y
            y = y + y * d
        ah, al = _split(a)
        yh, yl = _split(y)
        d = ONE - ah * yh
        d = d - ah * yl
        d = d - al * yh
        d = d - al * yl
        y = y + y * d
        out = y * scale
        out = np.where(bits(x) & 0x7FFFFFFF == 0, from_bits(0x7F800000 | sign), out)
        out = np.where(np.isinf(x), from_bits(sign), out)
        out = np.where(np.isnan(x), a, out)
    return out.astype(F)


# -- rsqrt ----------------------------------------------------------------------------------
def rsqrt_f32(x) -> np.ndarray:
    x0 = np.atleast_1d(np.asarray(x, F))
    with np.errstate(all="ignore"):
        sub = (bits(x0) >> 23) < 27
        x = np.where(sub, x0 * F(2.0 ** 64), x0).astype(F)
        scale = np.where(sub, F(2.0 ** 32), ONE).astype(F)
        y = from_bits(0x5F375A86 - (bits(x) >> 1))
        hx = F(0.5) * x
        for _ in range(2):
            y = y * (F(1.5) - (hx * y) * y)
        xh, xl = _split(x)
        yh, yl = _split(y)
        ph = x * y
        pl = (((xh * yh - ph) + xh * yl) + xl * yh) + xl * yl
        phh, phl = _split(ph)
        qh = ph * y
        ql = (((phh * yh - qh) + phh * yl) + phl * yh) + phl * yl
        e = ((ONE - qh) - ql) - pl * y
        y = y + (F(0.5) * y) * e
        out = y * scale
        out = np.where(x0 == 0, F(np.inf), out)
        out = np.where(bits(x0) == 0x80000000, F(-np.inf), out)
        out = np.where((x0 < 0), F(np.nan), out)
        out = np.where(np.isposinf(x0), F(0), out)
        out = np.where(np.isnan(x0), x0, out)
    return out.astype(F)


# -- sin/cos --------------------------------------------------------------------------------
TWO_OVER_PI = F(0.636619772367581343)
PIO2_1 = F(1.5703125)
PIO2_2 = F(4.837512969970703125e-4)
PIO2_3 = F(7.54978995489188216e-8)
SIN_S = [F(-1.9515295891e-4), F(8.3321608736e-3), F(-1.6666654611e-1)]
COS_C = [F(2.443315711809948e-005), F(-1.388731625493765e-003), F(4.166664568298827e-002)]


def sincos_core(r, q):
    """sin/cos of r + q*pi/2 for r in [-pi/4, pi/4] (fp32) and integer q."""
    r = np.asarray(r, F)
    q = np.asarray(q, np.int64) & 3
    z = r * r
    s = SIN_S[1] + SIN_S[0] * z
    s = SIN_S[2] + s * z
    s = s * z
    s = s * r
    s = s + r
    c = COS_C[1] + COS_C[0] * z
    c = COS_C[2] + c * z
    c = c * z
    c = c * z
    c = c - F(0.5) * z
    c = c + ONE
    sn = np.select([q == 0, q == 1, q == 2], [s, c, -s], -c).astype(F)
    cs = np.select([q == 0, q == 1, q == 2], [c, -s, -c], s).astype(F)
    return sn, cs


def sincos_f32(x):
    x = np.atleast_1d(np.asarray(x, F))
    t = x * TWO_OVER_PI + MAGIC
    qf = t - MAGIC
    q = bits(t) - MAGIC_BITS
    r = x - qf * PIO2_1
    r = r - qf * PIO2_2
    r = r - qf * PIO2_3
    return sincos_core(r, q)


# -- RoPE angles (kernels/rope/rope.s) ------------------------------------------------------
PIO2 = F(np.pi / 2)


def rope_pieces(freq: np.ndarray, bits_per_piece: int = 7) -> np.ndarray:
    """(len(freq), 4) fp32: v = freq*2/pi (float64) cut into three pieces of
    `bits_per_piece` significant bits (so pos*piece is exact for pos < 2^(24-bits)) and
    the fp32 rounding of the rest."""
    rem = np.asarray(freq, np.float64) * (2.0 / np.pi)
    out = np.zeros((len(rem), 4), F)
    for j in range(3):
        m, e = np.frexp(rem)
        piece = np.ldexp(np.trunc(m * 2.0 ** bits_per_piece), e - bits_per_piece)
        out[:, j] = piece.astype(F)
        rem = rem - piece
    out[:, 3] = rem.astype(F)
    return out


def rope_sincos(pos, pieces: np.ndarray):
    """sin/cos of the angle pos*freq, exactly as rope.s computes them from the pieces. pos: an
    int (results shaped like the frequencies), or an array of them (one more leading axis)."""
    p = np.asarray(pos, F)[..., None]
    pieces = np.asarray(pieces, F)
    n = np.zeros(p.shape[:-1] + (len(pieces),), np.int64)
    acc = np.zeros(n.shape, F)
    for j in range(4):
        pj = p * pieces[:, j]
        t = pj + MAGIC
        n += bits(t) - MAGIC_BITS
        acc = acc + (pj - (t - MAGIC))
    t = acc + MAGIC
    n += bits(t) - MAGIC_BITS
    acc = acc - (t - MAGIC)
    return sincos_core(acc * PIO2, n)
