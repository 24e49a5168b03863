"""``torch._foreach_*`` (the list-of-tensors ops optimizers and EMA code call): values, gradients, the in-place
forms' writes and return, and the length errors, against PyTorch."""
import numpy
import pytest
import torch

import ember
from tests.oracle import check, check_same_error, sample

A = (sample((2, 3), seed=1), sample((4,), seed=2))
B = (sample((2, 3), low=0.5, high=2, seed=3), sample((4,), low=0.5, high=2, seed=4))

UNARY = ["abs", "ceil", "cos", "erf", "exp", "expm1", "floor", "frac", "neg", "round", "sigmoid", "sign", "sin",
         "tanh", "trunc", "atan", "clone"]
POSITIVE_UNARY = ["sqrt", "rsqrt", "log", "log2", "log10", "log1p", "reciprocal", "lgamma"]


@pytest.mark.parametrize("name", UNARY + POSITIVE_UNARY)
def test_unary(name):
    args = B if name in POSITIVE_UNARY else A
    check(lambda lib, a0, a1: getattr(lib, f"_foreach_{name}")([a0, a1]), *args)


@pytest.mark.parametrize("other", ["scalar", "scalars", "tensors", "tensor"])
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "clamp_min", "clamp_max", "maximum",
                                  "minimum"])
def test_binary(name, other):
    def fn(lib, a0, a1, b0, b1):
        operand = {"scalar": 1.5, "scalars": [0.5, 2.0], "tensors": [b0, b1], "tensor": lib.tensor(2.0)}[other]
        base = [b0, b1] if name == "pow" else [a0, a1]
        return getattr(lib, f"_foreach_{name}")(base, operand)
    check(fn, *A, *B)


def test_add_alpha_and_pow_of_scalar():
    check(lambda lib, a0, a1, b0, b1: lib._foreach_add([a0, a1], [b0, b1], alpha=-0.5), *A, *B)
    check(lambda lib, a0, a1: lib._foreach_pow(2.0, [a0, a1]), *A)


@pytest.mark.parametrize("value", [0.5, "scalars", "tensor"])
@pytest.mark.parametrize("name", ["addcmul", "addcdiv"])
def test_pointwise_ternary(name, value):
    def fn(lib, a0, a1, b0, b1):
        v = {"scalars": [0.5, -2.0], "tensor": lib.tensor([0.5, -2.0])}.get(value, value)
        return getattr(lib, f"_foreach_{name}")([a0, a1], [a1.new_ones(a0.shape), b1], [b0, b1], v)
    check(fn, *A, *B, grad=value != "tensor")   # PyTorch has no derivative for a tensor of values


@pytest.mark.parametrize("weight", [0.25, "scalars", "tensors"])
def test_lerp(weight):
    def fn(lib, a0, a1, b0, b1):
        w = {"scalars": [0.1, 0.9], "tensors": [b0 / 4, b1 / 4]}.get(weight, weight)
        return lib._foreach_lerp([a0, a1], [b0, b1], w)
    check(fn, *A, *B)


def test_reductions_and_mm():
    check(lambda lib, a0, a1: lib._foreach_norm([a0, a1]), *A)
    check(lambda lib, a0, a1: lib._foreach_norm([a0, a1], 1), *A)
    check(lambda lib, a0, a1: lib._foreach_max([a0, a1]), *A, grad=False)
    check(lambda lib, a, b: lib._foreach_mm([a, b], [b, a]), sample((2, 2), seed=5), sample((2, 2), seed=6))


def _inplace(lib):
    a = [lib.tensor(x) for x in A]
    b = [lib.tensor(x) for x in B]
    results = [lib._foreach_mul_(a, 0.9) is a]
    lib._foreach_add_(a, b, alpha=0.1)
    lib._foreach_addcmul_(a, b, b, value=0.5)
    lib._foreach_addcdiv_(a, b, b, lib.tensor([1.0, 2.0]))
    lib._foreach_maximum_(a, b)
    lib._foreach_minimum_(a, 1.5)   # a scalar bound, as timm's ADOPT passes
    lib._foreach_lerp_(a, b, [0.1, 0.2])
    lib._foreach_sqrt_(a)
    lib._foreach_clamp_max_(a, 1.2)
    results.append([t.numpy().copy() for t in a])
    lib._foreach_copy_(a, b)
    results.append([t.numpy().copy() for t in a])
    results.append(lib._foreach_zero_(a) is a and all(float(t.abs().sum()) == 0 for t in a))
    return results


def test_inplace_forms_write_and_return_self():
    got, expected = _inplace(ember), _inplace(torch)
    assert got[0] is expected[0] is True and got[3] is expected[3] is True
    for g, e in zip(got[1] + got[2], expected[1] + expected[2]):
        numpy.testing.assert_allclose(g, e, rtol=1e-6)


def test_length_errors():
    check_same_error(lambda lib, a: lib._foreach_add([a, a], [1.0]), A[0])
    check_same_error(lambda lib: lib._foreach_add([], 1.0))
