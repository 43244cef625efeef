"""fp16 <-> fp32 conversions of the C core against numpy: all 65536 fp16 values, random fp32."""
import numpy as np
from hypothesis import given, strategies as st

from wse.emu._core import lib


def test_f16_to_f32_all_values():
    h = np.arange(65536, dtype=np.uint32)
    got = np.array([lib.wse_f16_to_f32(int(v)) for v in h], dtype=np.uint32)
    want = h.astype(np.uint16).view(np.float16).astype(np.float32).view(np.uint32)
    nan = np.isnan(h.astype(np.uint16).view(np.float16))
    assert np.array_equal(got[~nan], want[~nan])
    # NaNs stay NaN (the tensor path canonicalises them afterwards)
    assert np.isnan(got[nan].view(np.float32)).all()


def test_f32_to_f16_round_trip_all_f16():
    h = np.arange(65536, dtype=np.uint16)
    f = h.view(np.float16).astype(np.float32).view(np.uint32)
    got = np.array([lib.wse_f32_to_f16(int(v)) for v in f], dtype=np.uint16)
    nan = np.isnan(h.view(np.float16))
    assert np.array_equal(got[~nan], h[~nan])
    assert (got[nan] == 0x7E00).all()


def _np_f32_to_f16(bits):
    with np.errstate(all="ignore"):
        v = np.uint32(bits).view(np.float32).astype(np.float16)
    return 0x7E00 if np.isnan(v) else int(v.view(np.uint16))


@given(st.integers(0, 0xFFFFFFFF))
def test_f32_to_f16_random_bits(bits):
    assert lib.wse_f32_to_f16(bits) == _np_f32_to_f16(bits)


def test_f32_to_f16_edges():
    cases = [0x477FF000, 0x477FEFFF, 0x477FE000, 0x33000000, 0x33000001, 0x387FE000, 0x387FF000,
             0x38800000, 0x80000001, 0x7F800000, 0xFF800000, 0x7F800001, 0x00000001, 0x3F800000,
             0x33800000, 0x337FFFFF, 0xB3000001]
    for b in cases:
        assert lib.wse_f32_to_f16(b) == _np_f32_to_f16(b), hex(b)
    rng = np.random.default_rng(1)
    # dense sampling of the subnormal and near-overflow ranges
    for lo, hi in ((0x33000000, 0x38800000), (0x47000000, 0x47800000)):
        for b in rng.integers(lo, hi, 5000):
            assert lib.wse_f32_to_f16(int(b)) == _np_f32_to_f16(int(b)), hex(int(b))
