"""Scaled sums and in-place writes, as a second differential sweep against PyTorch 2.13 found them: add/sub's alpha
checked and cast in the result dtype (a uint8 operand no longer wraps before an int64 sum), addcmul's bool factors,
pow of a bool tensor by a bool, copy_ from a number; each case run on both libraries and compared."""
import warnings

import numpy
import pytest
import torch

import ember
from tests.oracle import same_listing


DTYPES = ["bool", "uint8", "int64", "float32", "float64", "complex64"]
ALPHAS = [2, 0, -2, 200, True, False, 2.5, 1.0, 1j]


def operand(lib, dtype, values=(1, 0, 2)):
    return lib.tensor(values).to(getattr(lib, dtype))


@pytest.mark.parametrize("name", ["add", "sub"])
@pytest.mark.parametrize("a", DTYPES)
@pytest.mark.parametrize("b", DTYPES)
@pytest.mark.parametrize("alpha", ALPHAS)
def test_alpha_in_the_result_dtype(name, a, b, alpha):
    same_listing(lambda L: getattr(L, name)(operand(L, a), operand(L, b, (2, 1, 1)), alpha=alpha))


@pytest.mark.parametrize("a", DTYPES)
@pytest.mark.parametrize("alpha", [2, True, 2.5])
def test_alpha_in_place(a, alpha):
    same_listing(lambda L: operand(L, a).add_(operand(L, a, (2, 1, 1)), alpha=alpha))


@pytest.mark.parametrize("alpha", [2, True, 3])
@pytest.mark.parametrize("other", [True, 1, 2.5])
def test_alpha_with_a_number(alpha, other):
    same_listing(lambda L: L.add(operand(L, "bool"), other, alpha=alpha))


def test_alpha_gradients():
    results = []
    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = lib.tensor([3.0, 4.0], dtype=lib.float64, requires_grad=True)
        result = lib.sub(x, y, alpha=3)
        result.sum().backward()
        results.append((result.grad_fn.name(), result.tolist(), x.grad.tolist(), y.grad.tolist()))
    assert results[0] == results[1]


@pytest.mark.parametrize("inputs", [("uint8", "bool", "bool"), ("bool", "uint8", "uint8"), ("bool", "bool", "bool"),
                                    ("float32", "bool", "bool"), ("uint8", "uint8", "uint8"),
                                    ("float32", "float32", "float32")])
@pytest.mark.parametrize("value", [1, 2, 2.5, True, 1j, 1e300])
def test_addcmul_in_the_result_dtype(inputs, value):
    same_listing(lambda L: L.addcmul(*(operand(L, d) for d in inputs), value=value))


@pytest.mark.parametrize("exponent", [True, False, 1, 0, 2, 1.0])
def test_pow_of_bool(exponent):
    same_listing(lambda L: L.pow(operand(L, "bool"), exponent))
    same_listing(lambda L: operand(L, "bool").pow_(exponent))


@pytest.mark.parametrize("dtype", ["uint8", "int64", "float32", "complex64", "bool"])
@pytest.mark.parametrize("value", [300, -1, 2.7, True, 1 + 2j, numpy.float64(2.5), "x", [1, 2], 2 ** 70])
def test_copy_from_a_number(dtype, value):
    with warnings.catch_warnings():   # both warn once that a complex number's imaginary part is dropped
        warnings.simplefilter("ignore")
        same_listing(lambda L: operand(L, dtype).copy_(value))
