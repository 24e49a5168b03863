"""logcumsumexp against PyTorch: values, gradients (also where exp would overflow, at -inf and NaN), complex,
16-bit, errors; its backward is differentiable (gradgradcheck)."""
import numpy
import pytest
import torch

import ember

from ..oracle import check, check_error

INF, NAN = float("inf"), float("nan")


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64, numpy.complex64, numpy.complex128])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_logcumsumexp_matches_torch(dtype, dim):
    rng = numpy.random.default_rng(3)
    x = rng.standard_normal((3, 6, 4)) * 4
    if numpy.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(x.shape) * 3
    check(lambda L, x: [L.logcumsumexp(x, dim), x.logcumsumexp(dim=dim)], x.astype(dtype))


def test_logcumsumexp_where_exp_overflows_and_at_infinities():
    check(lambda L, x: L.logcumsumexp(x, 0), numpy.array([1000.0, 1.0, -1000.0, 700.0]))
    check(lambda L, x: L.logcumsumexp(x, 1), numpy.array([[-INF, 1.0, INF, NAN, 2.0], [-INF] * 5, [2.0, -INF, 3.0,
                                                                                                    -INF, 0.5]]))
    check(lambda L, x: L.logcumsumexp(x, 0), numpy.array([-INF, -INF + 0j, 1 + 2j], dtype=numpy.complex128))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_logcumsumexp_in_16_bits(dtype):
    x = numpy.random.default_rng(0).standard_normal((4, 33)).astype(numpy.float32) * 3
    ours = ember.logcumsumexp(ember.tensor(x).to(getattr(ember, dtype)), 1)
    theirs = torch.logcumsumexp(torch.tensor(x).to(getattr(torch, dtype)), 1)
    assert ours.dtype == getattr(ember, dtype)
    numpy.testing.assert_array_equal(ours.float().numpy(), theirs.float().numpy())


def test_logcumsumexp_shapes_out_and_node():
    check(lambda L, x: L.logcumsumexp(x, 0), numpy.array(2.5))
    check(lambda L, x: L.logcumsumexp(x, 1), numpy.zeros((0, 3)))
    out = ember.empty(3)
    result = ember.logcumsumexp(ember.tensor([1.0, 2.0, 3.0]), 0, out=out)
    assert result is out
    numpy.testing.assert_allclose(out.numpy(), torch.logcumsumexp(torch.tensor([1.0, 2.0, 3.0]), 0).numpy())
    x = ember.ones(2, requires_grad=True)
    assert ember.logcumsumexp(x, 0).grad_fn.name() == "LogcumsumexpBackward0"


@pytest.mark.parametrize("args", [(numpy.array([1, 2]), 0), (numpy.array([True]), 0), (numpy.ones((2, 3)), 2)])
def test_logcumsumexp_errors_as_torch(args):
    check_error(lambda L, x, d: L.logcumsumexp(x, d), *args)


def test_logcumsumexp_backward_is_differentiable():
    x = ember.tensor(numpy.random.default_rng(1).standard_normal((3, 5)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: ember.logcumsumexp(t, 1), (x,))
    assert ember.autograd.gradgradcheck(lambda t: ember.logcumsumexp(t, 1), (x,))


def test_logcumsumexp_under_vmap_and_grad_matches_torch_func():
    x = numpy.random.default_rng(2).standard_normal((4, 3, 5)).astype(numpy.float32)
    ours = ember.func.vmap(ember.func.grad(lambda t: ember.logcumsumexp(t, 1).sin().sum()))(ember.tensor(x))
    theirs = torch.func.vmap(torch.func.grad(lambda t: torch.logcumsumexp(t, 1).sin().sum()))(torch.tensor(x))
    numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
