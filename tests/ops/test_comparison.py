"""Comparisons and value tests against PyTorch: bool results, promotion, broadcasting, special values, errors."""
import numpy
import pytest

import ember
from tests.oracle import check, check_error, check_same_error, noncontiguous, sample

F32, F64, I64, BOOL = numpy.float32, numpy.float64, numpy.int64, numpy.bool_
SPECIAL = numpy.array([0.0, -0.0, 1.5, -2.0, numpy.inf, -numpy.inf, numpy.nan, -numpy.nan])

COMPARISONS = {
    "eq": lambda lib, x, y: lib.eq(x, y), "ne": lambda lib, x, y: x != y, "lt": lambda lib, x, y: x < y,
    "le": lambda lib, x, y: lib.le(x, y), "gt": lambda lib, x, y: x > y, "ge": lambda lib, x, y: x >= y,
    "__eq__": lambda lib, x, y: x == y, "greater": lambda lib, x, y: lib.greater(x, y),
    "greater_equal": lambda lib, x, y: x.greater_equal(y), "less": lambda lib, x, y: lib.less(x, y),
    "less_equal": lambda lib, x, y: lib.less_equal(x, y), "not_equal": lambda lib, x, y: lib.not_equal(x, y),
}


def pairs(dtype):
    shapes = [((3, 4), (3, 4)), ((3, 4), (4,)), ((), (2, 3)), ((0, 3), (1, 3))]
    result = [(numpy.asarray(sample(a, dtype, seed=1)), numpy.asarray(sample(b, dtype, seed=2))) for a, b in shapes]
    result.append((noncontiguous(sample((4, 3), dtype)), noncontiguous(sample((4, 3), dtype, seed=5))))
    return result


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparisons(name):
    call = COMPARISONS[name]
    for dtype in (F32, F64, I64, BOOL):
        for x, y in pairs(dtype):
            check(call, x, y)
        x = sample((2, 3), dtype)
        for number in (1, 0.5, True):
            check(call, x, number)
    check(call, sample((2, 3), I64), sample((3,), F32))      # promotion before comparing
    check(call, SPECIAL, SPECIAL[::-1].copy())


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge", "greater", "less_equal", "not_equal"])
def test_inplace_comparisons_keep_self_dtype(name):
    check(lambda lib, x, y: getattr(x.clone(), name + "_")(y), sample((2, 3), F32), sample((3,), F32), grad=False)
    check(lambda lib, x, y: getattr(x.clone(), name + "_")(y), sample((2, 3), I64), sample((3,), I64), grad=False)


def test_comparison_with_none_and_broadcast_errors():
    check(lambda lib, x: x == None, sample((3,), F32), grad=False)  # noqa: E711
    check(lambda lib, x: x != None, sample((3,), F32), grad=False)  # noqa: E711
    check_error(lambda lib, x, y: x < y, sample((2, 3), F32), sample((2, 4), F32),
                match=r"The size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton dimension 1")


def test_contains_matches_torch():
    # transformers asks `pad_token_id in input_ids[:, [-1, 0]]`
    for element in (3, 7, 2.0, True, numpy.int64(4), lambda L: L.tensor(2), lambda L: L.tensor([1, 2]),
                    lambda L: L.tensor([[9], [3]])):
        check(lambda L, x, e=element: e(L) in x if callable(e) else e in x,
              numpy.array([[1, 2], [3, 4]]), grad=False)
    assert (float("nan") in ember.tensor([float("nan")])) is False
    for element in ("a", [1], None):
        check_same_error(lambda L, x, e=element: e in x, numpy.array([1, 2]))
    check_same_error(lambda L: 3 in L.ones(2, device="meta"))


def test_equal():
    x = sample((2, 3), F32)
    check(lambda lib, a: lib.equal(a, a.clone()), x)
    check(lambda lib, a: lib.equal(a, a + 1), x)
    check(lambda lib, a: lib.equal(a, a.double()), x)
    check(lambda lib, a: lib.equal(a, a.reshape(3, 2)), x)
    check(lambda lib, a: a.equal(a), x)
    check(lambda lib, a: lib.equal(a, a), SPECIAL)


@pytest.mark.parametrize("kwargs", [{}, {"rtol": 0.1}, {"atol": 0.5}, {"equal_nan": True}, {"rtol": 0, "atol": 0}])
def test_isclose_and_allclose(kwargs):
    x = numpy.array([1.0, 1.05, numpy.nan, numpy.inf, -numpy.inf, 0.0, 1e-9, 2.0])
    y = numpy.array([1.0, 1.0, numpy.nan, numpy.inf, numpy.inf, 1e-9, 0.0, 2.4])
    for dtype in (F32, F64):
        check(lambda lib, a, b: lib.isclose(a, b, **kwargs), x.astype(dtype), y.astype(dtype))
        check(lambda lib, a, b: a.isclose(b, **kwargs), x.astype(dtype), y.astype(dtype))
        check(lambda lib, a, b: lib.allclose(a, b, **kwargs), x.astype(dtype), y.astype(dtype))
        check(lambda lib, a, b: lib.allclose(a, b, **kwargs), x[:2].astype(dtype), x[:2].astype(dtype))
    check(lambda lib, a, b: lib.isclose(a, b, **kwargs), numpy.array([1, 2, 3]), numpy.array([1, 3, 3]))
    check(lambda lib, a, b: lib.isclose(a, b, **kwargs), sample((4,), BOOL), sample((4,), BOOL, seed=3))
    check(lambda lib, a, b: lib.isclose(a, b, **kwargs), sample((2, 3), F32), sample((3,), F32))


def test_isclose_errors():
    x = sample((3,), F32)
    check_error(lambda lib, a: lib.isclose(a, a.long()), x, match="Float did not match Long")
    check_error(lambda lib, a: lib.isclose(a, a, rtol=-1), x, match="rtol must be greater than or equal to zero")
    check_error(lambda lib, a: lib.isclose(a, a, atol=-1), x, match="atol must be greater than or equal to zero")


TESTS = {
    "isnan": lambda lib, x: lib.isnan(x), "isinf": lambda lib, x: x.isinf(),
    "isposinf": lambda lib, x: lib.isposinf(x), "isneginf": lambda lib, x: lib.isneginf(x),
    "isfinite": lambda lib, x: lib.isfinite(x), "isreal": lambda lib, x: lib.isreal(x),
    "signbit": lambda lib, x: lib.signbit(x),
}


@pytest.mark.parametrize("name", TESTS)
def test_value_tests(name):
    call = TESTS[name]
    for dtype in (F32, F64):
        check(call, SPECIAL.astype(dtype))
        check(call, numpy.zeros((0, 2), dtype))
        check(call, numpy.asarray(dtype(numpy.nan)))
        check(call, noncontiguous(sample((3, 4), dtype)))
    check(call, numpy.array([3, -2, 0]))
    check(call, numpy.array([True, False]))


def test_value_tests_accept_complex():
    z = numpy.array([1 + 0j, 1j, numpy.nan + 0j, numpy.inf * 1j], numpy.complex128)
    for name in ("isnan", "isinf", "isfinite", "isreal"):
        check(TESTS[name], z, grad=False)
