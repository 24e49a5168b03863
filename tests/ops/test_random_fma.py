"""The float32 fused multiply-add behind normal_(mean, std) and uniform_(a, b): one rounding of the exact a * b + c,
checked against exact rational arithmetic on sums that land on float32 midpoints, and against PyTorch's stream."""
from fractions import Fraction

import numpy
import torch

import ember
from ember.ops import _cephes
from tests import oracle


def _round_exactly(value):
    """The float32 nearest to the rational ``value`` (ties to even)."""
    guess = numpy.float32(float(value))
    below = guess if Fraction(float(guess)) <= value else numpy.nextafter(guess, numpy.float32(-numpy.inf))
    above = numpy.nextafter(below, numpy.float32(numpy.inf))
    low, high = value - Fraction(float(below)), Fraction(float(above)) - value
    if low != high:
        return below if low < high else above
    return below if int(below.view(numpy.int32)) % 2 == 0 else above


def test_fma_rounds_once_on_float32_midpoints():
    rng = numpy.random.default_rng(0)
    a = rng.standard_normal(3000).astype(numpy.float32)
    b = numpy.float32(1.5)   # a * 1.5 needs 25 bits: often a float32 midpoint, which a tiny c pushes either way
    c = (rng.choice([-1, 0, 1], 3000) * numpy.abs(a) * 2.0 ** rng.integers(-45, -26, 3000)).astype(numpy.float32)
    got = _cephes.fma(a, b, c)
    expected = [_round_exactly(Fraction(float(x)) * Fraction(float(b)) + Fraction(float(z))) for x, z in zip(a, c)]
    numpy.testing.assert_array_equal(got.view(numpy.int32), numpy.array(expected, numpy.float32).view(numpy.int32))
    ties = (a.astype(numpy.float64) * 1.5 + c).view(numpy.int64) & 0x1FFFFFFF == 0x10000000
    assert ties.sum() > 100   # the midpoint branch ran


def test_normal_with_exact_mean_and_std_matches_torch():
    """std 2 and mean 1 make every float64 sum exact and many of them float32 midpoints (ties to even)."""
    for dtype in ("float32", "float64"):
        torch.manual_seed(5)
        expected = torch.empty(10000, dtype=getattr(torch, dtype)).normal_(1.0, 2.0).numpy()
        ember.manual_seed(5)
        got = oracle.as_numpy(ember.empty(10000, dtype=getattr(ember, dtype)).normal_(1.0, 2.0))
        numpy.testing.assert_array_equal(got, expected)


def test_uniform_bounds_whose_sums_are_exact_skip_the_midpoint_check():
    """uniform_(a, b) casts the float64 sum straight to float32 where ``_exact_sums`` proves it exact: checked
    against rational arithmetic, and the values against PyTorch's for bounds on both paths."""
    from ember.ops._samplers import _exact_sums
    rng = numpy.random.default_rng(1)
    x = numpy.concatenate([[0, 2 ** 24 - 1], rng.integers(0, 2 ** 24, 40)]) * 2.0 ** -24
    bounds = [(-1, 2), (-0.37, 1.9), (1e-10, 1.0), (-3e5, 7e-3), (2 ** -30, 5.0), (0, 1e-3), (-7.25, -7.0)]
    paths = set()
    for low, high in bounds:
        low32 = numpy.float32(low)
        span = numpy.float32(high) - low32
        exact = _exact_sums(span, low32)
        paths.add(exact)
        if exact:
            for value in x:
                assert Fraction(value * float(span) + float(low32)) == \
                    Fraction(value) * Fraction(float(span)) + Fraction(float(low32))
        torch.manual_seed(2)
        expected = torch.empty(5000).uniform_(low, high).numpy()
        ember.manual_seed(2)
        got = oracle.as_numpy(ember.empty(5000).uniform_(low, high))
        numpy.testing.assert_array_equal(got.view(numpy.int32), expected.view(numpy.int32), err_msg=str((low, high)))
    assert paths == {True, False}


def test_normal_scalings_whose_sums_are_exact_skip_the_midpoint_check():
    """normal_(mean, std) in float32 casts the float64 sum straight to float32 when every value of a block is large
    enough for ``_exact_from`` to prove the sum exact: the sums above that bound are exact (rational arithmetic), and
    the result equals the general fused multiply-add on blocks with and without tiny values."""
    from ember.ops._samplers import _exact_from, _scale_shift
    rng = numpy.random.default_rng(3)
    values = numpy.clip(rng.standard_normal(20000) * 2.0 ** rng.integers(-40, 2, 20000), -5.8, 5.8)
    values = numpy.concatenate([[0.0, -0.0, 5.77, -5.77], values]).astype(numpy.float32)
    for std, mean in ((3, 2), (2, 1), (0.5, 3.0), (2.1, 0.3), (1e-8, 3), (1, 1e-10), (3.3e-5, -1e-3), (0, 5), (7, 0)):
        std, mean = numpy.float32(std), numpy.float32(mean)
        smallest = _exact_from(std, mean)
        if smallest is not None:
            above = values[numpy.bitwise_and(values.view(numpy.int32), 0x7FFFFFFF) >= smallest]
            for v in above[:200]:
                assert Fraction(float(v) * float(std) + float(mean)) == \
                    Fraction(float(v)) * Fraction(float(std)) + Fraction(float(mean))
        for block in (values, numpy.abs(values) + numpy.float32(0.5)):   # with tiny values, and without
            got = block.copy()
            _scale_shift(got, std, mean)
            numpy.testing.assert_array_equal(got.view(numpy.int32), _cephes.fma(block, std, mean).view(numpy.int32))


def test_float64_fills_near_the_maximum():
    """uniform_ / normal_ on float64 with bounds or a mean near float64's maximum give PyTorch's values (the exact
    product's split overflowed to NaN)."""
    results = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        results.append([lib.empty(5, dtype=lib.float64).uniform_(-5e307, 5e307).numpy(),
                        lib.empty(20, dtype=lib.float64).normal_(-1e307, 1e307).numpy(),
                        lib.empty(3, dtype=lib.float64).normal_(1e307, 1e306).numpy()])
    for got, want in zip(results[1], results[0]):
        numpy.testing.assert_array_equal(got, want)
