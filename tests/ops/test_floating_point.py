"""ldexp, frexp, nextafter and heaviside against PyTorch: values at zeros, infinities, NaN and subnormals, dtypes
(16-bit too), gradients (gradcheck in float64), out= and error types."""
import numpy
import pytest
import torch

import ember

from ..oracle import check, check_error, gradcheck, sample

SPECIAL = numpy.array([0.0, -0.0, 1.0, -3.5, 1e-40, 6e4, numpy.inf, -numpy.inf, numpy.nan])


@pytest.mark.parametrize("dtypes", [(numpy.float32, numpy.int64), (numpy.float64, numpy.int32),
                                    (numpy.int64, numpy.int64), (numpy.float32, numpy.float64),
                                    (numpy.float16, numpy.int64), (numpy.float32, numpy.float32)])
def test_ldexp_matches_torch(dtypes):
    x, e = sample((3, 4), dtypes[0]), numpy.array([-3, 0, 2, 5], dtypes[1])
    # torch 2.13's gradient for integer exponents is 2 ** e in integers (0 where e < 0): compare values there
    exact = numpy.dtype(dtypes[1]).kind == "f"
    check(lambda L, x, e: [L.ldexp(x, e), x.ldexp(e)], x, e, grad=exact)
    if not exact:
        check(lambda L, x, e: L.ldexp(x, e), x, numpy.abs(e))


def test_ldexp_inplace_out_and_errors():
    def inplace(L, x, e):
        y = x * 1
        return y.ldexp_(e), y, L.ldexp_(x * 1, e)
    check(inplace, sample((3,)), numpy.array([1, 0, 3]))
    gradcheck(lambda L, x, e: L.ldexp(x, e), sample((3,)), numpy.array([1.0, -2.0, 0.5]))
    out = ember.empty(2)
    assert ember.ldexp(ember.tensor([1.0, 2.0]), ember.tensor([3, 4]), out=out) is out and out.tolist() == [8, 32]
    check_error(lambda L, x: L.ldexp(x, 3), numpy.ones(2))
    check_error(lambda L, x, e: L.ldexp(x, e), numpy.ones(2), numpy.ones(2, bool))
    check_error(lambda L, x, e: x.ldexp_(e), numpy.ones(2, numpy.int64), numpy.ones(2, numpy.int64))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_frexp_matches_torch(dtype):
    values = SPECIAL if dtype in ("float32", "float64") else SPECIAL[[0, 1, 2, 3, 6, 7, 8]]
    x = numpy.concatenate([values, sample((20,), numpy.float64, low=-1e4, high=1e4)])
    check(lambda L, x: [tuple(L.frexp(x.to(getattr(L, dtype)))), tuple(x.to(getattr(L, dtype)).frexp())], x,
          grad=dtype in ("float32", "float64"))


def test_frexp_gradient_fields_out_and_errors():
    gradcheck(lambda L, x: L.frexp(x).mantissa, numpy.array([3.0, -10.0, 0.3, 7.5]))
    mantissa, exponent = ember.empty(0), ember.empty(0, dtype=ember.int32)
    result = ember.frexp(ember.tensor([3.0, 8.0]), out=(mantissa, exponent))
    assert result.mantissa is mantissa and result.exponent is exponent and exponent.tolist() == [2, 4]
    check_error(lambda L, x: L.frexp(x), numpy.array([1, 2]))
    check_error(lambda L, x: L.frexp(x, out=(L.empty(1), L.empty(1))), numpy.array([6.0]))


@pytest.mark.parametrize("dtypes", [(numpy.float32, numpy.float32), (numpy.float64, numpy.float64),
                                    (numpy.float32, numpy.float64), (numpy.float16, numpy.float16)])
def test_nextafter_matches_torch(dtypes):
    x = SPECIAL.astype(dtypes[0])
    toward = numpy.array([1.0, 1.0, 0.0, -numpy.inf, 0.0, numpy.inf, 0.0, numpy.nan, 2.0], dtypes[1])
    check(lambda L, x, y: [L.nextafter(x, y), x.nextafter(y)], x, toward)


def test_nextafter_bfloat16_inplace_out_and_errors():
    check(lambda L, x, y: L.nextafter(x.to(L.bfloat16), y.to(L.bfloat16)), numpy.array([1.0, 2.0]),
          numpy.array([2.0, 1.0]), grad=False)

    def inplace(L, x, y):
        z = x * 1
        return z.nextafter_(y), z
    check(inplace, sample((4,)), sample((4,), seed=2))
    out = ember.empty(1)
    assert ember.nextafter(ember.tensor([1.0]), ember.tensor([2.0]), out=out) is out
    check_error(lambda L, x, y: L.nextafter(x, y), numpy.array([1, 2]), numpy.array([2, 1]))
    check_error(lambda L, x: L.nextafter(x, 3.0), numpy.ones(2))


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64, numpy.int64, numpy.bool_, numpy.float16])
@pytest.mark.parametrize("values_shape", [(), (5,), (2, 1)])
def test_heaviside_matches_torch(dtype, values_shape):
    x = numpy.array([-1.5, 0.0, 2.0, 0.0, numpy.nan] if numpy.dtype(dtype).kind == "f" else [-1, 0, 2, 0, 1]).astype(
        dtype)
    v = numpy.asarray(sample(values_shape, dtype, seed=5))
    check(lambda L, x, v: [L.heaviside(x, v), x.heaviside(v)], x, v, grad=False)


def test_heaviside_inplace_no_gradient_and_errors():
    def inplace(L, x, v):
        y = x * 1
        return y.heaviside_(v), y
    check(inplace, numpy.array([-1.0, 0.0, 2.0]), numpy.array(0.5), grad=False)
    for lib in (torch, ember):
        x = lib.tensor([-1.0, 0.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="derivative for aten::heaviside is not implemented"):
            lib.heaviside(x, lib.tensor(0.5)).sum().backward()
    check_error(lambda L, x, v: L.heaviside(x, v), numpy.ones(2), numpy.ones(2, numpy.float32))
    check_error(lambda L, x, v: L.heaviside(x, v), numpy.ones(2, numpy.complex64), numpy.ones(2, numpy.complex64))
    check_error(lambda L, x: L.heaviside(x, 0.5), numpy.ones(2))
    check_error(lambda L, x, v: L.heaviside(x, v), numpy.ones(3), numpy.ones(2))
