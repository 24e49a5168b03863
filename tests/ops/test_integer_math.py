"""gcd and lcm (and in-place forms) against PyTorch: values with negatives, zeros and overflow, promotion, errors."""
import numpy
import pytest

import ember

from ..oracle import check, check_error, sample


@pytest.mark.parametrize("name", ["gcd", "lcm"])
@pytest.mark.parametrize("dtypes", [(numpy.int64, numpy.int64), (numpy.int32, numpy.int32), (numpy.int8, numpy.uint8),
                                    (numpy.uint8, numpy.uint8), (numpy.int16, numpy.int64)])
def test_gcd_lcm_match_torch(name, dtypes):
    a, b = sample((4, 5), dtypes[0], low=-40, high=40), sample((5,), dtypes[1], low=-12, high=60, seed=1)
    a[0, :2], b[:2] = 0, 0
    check(lambda L, a, b: [getattr(L, name)(a, b), getattr(a, name)(b)], a, b)


@pytest.mark.parametrize("name", ["gcd", "lcm"])
def test_gcd_lcm_overflow_extremes_and_inplace(name):
    a = numpy.array([-18, 100, 127, -128, 64], numpy.int8)
    b = numpy.array([100, 100, 126, 0, -128], numpy.int8)
    check(lambda L, a, b: getattr(L, name)(a, b), a, b)
    big = numpy.array([2 ** 63 - 1, -2 ** 63, 2 ** 40], numpy.int64)
    check(lambda L, a, b: getattr(L, name)(a, b), big, numpy.array([0, 0, 3 ** 20]))

    def inplace(L, a, b):
        y = a * 1
        return getattr(y, name + "_")(b), y, getattr(L, name + "_")(a * 1, b)
    check(inplace, sample((3,), numpy.int32, low=1, high=50), numpy.array([6, 9, 10]))


@pytest.mark.parametrize("name", ["gcd", "lcm"])
def test_gcd_lcm_out_and_errors(name):
    out = ember.empty(2, dtype=ember.int64)
    assert getattr(ember, name)(ember.tensor([4, 6]), ember.tensor([6, 4]), out=out) is out
    check_error(lambda L, a, b: getattr(L, name)(a, b), numpy.ones(2), numpy.ones(2, numpy.int64))
    check_error(lambda L, a, b: getattr(L, name)(a, b), numpy.ones(2, bool), numpy.ones(2, bool))
    check_error(lambda L, a: getattr(L, name)(a, 4), numpy.ones(2, numpy.int64))
    check_error(lambda L, a, b: getattr(L, name)(a, b), numpy.ones(2, numpy.int64), numpy.ones(3, numpy.int64))
    check(lambda L, a, b: getattr(a, name + "_")(b), numpy.array([12, 9], numpy.int8), numpy.array([300, 6]))
