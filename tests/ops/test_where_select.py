"""``where`` on large arrays selects on the values' bits (no branch per element): the same values, bits (NaN,
signed zeros), dtypes and gradients as PyTorch, with broadcasting and scalars."""
import numpy
import pytest
import torch

import ember
from ember.ops import _parallel
from tests.oracle import check

LARGE = (2 * _parallel.MIN_ELEMENTS // 64 + 3, 64)   # over the size where the blocked kernel runs


@pytest.mark.parametrize("dtype", [numpy.float16, numpy.float32, numpy.float64, numpy.int8, numpy.uint8,
                                   numpy.int16, numpy.int32, numpy.int64, numpy.bool_])
def test_matches_torch_bit_for_bit(dtype):
    rng = numpy.random.default_rng(0)
    a = (rng.standard_normal(LARGE) * 50).astype(dtype)
    b = (rng.standard_normal(LARGE) * 50).astype(dtype)
    condition = rng.standard_normal(LARGE) > 0
    if dtype in (numpy.float16, numpy.float32, numpy.float64):
        a[::7] = numpy.nan
        a[1::7], b[2::7] = -0.0, numpy.inf
    got = ember.where(ember.from_numpy(condition), ember.from_numpy(a), ember.from_numpy(b)).numpy()
    want = torch.where(torch.from_numpy(condition), torch.from_numpy(a), torch.from_numpy(b)).numpy()
    assert got.dtype == want.dtype
    assert got.tobytes() == want.tobytes()


@pytest.mark.parametrize("other", [0.5, -3, True])
def test_scalars_and_broadcasting_match_torch(other):
    rng = numpy.random.default_rng(1)
    a = rng.standard_normal(LARGE).astype(numpy.float32)
    condition = rng.standard_normal((1, LARGE[1])) > 0
    check(lambda lib, c, a: lib.where(c, a, other), condition, a)
    check(lambda lib, c, a: lib.where(c, other, a), condition[0], a)


def test_mixed_dtypes_promote_as_torch():
    rng = numpy.random.default_rng(2)
    a = rng.standard_normal(LARGE).astype(numpy.float32)
    b = rng.integers(-5, 5, LARGE)
    condition = rng.standard_normal(LARGE) > 0
    check(lambda lib, c, a, b: lib.where(c, a, b), condition, a, b)
    check(lambda lib, c, a, b: lib.where(c, a, b), condition, a, a.astype(numpy.float64))


def test_complex_takes_the_general_path():
    rng = numpy.random.default_rng(3)
    a = (rng.standard_normal(LARGE) + 1j * rng.standard_normal(LARGE)).astype(numpy.complex64)
    condition = rng.standard_normal(LARGE) > 0
    check(lambda lib, c, a: lib.where(c, a, a * 2), condition, a)
