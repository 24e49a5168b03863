"""smooth_l1_loss and huber_loss on float arrays of one shape run as one elementwise primitive: PyTorch's bits for
the loss and both gradients (every reduction, beta/delta, ties at the threshold, infinities, NaN), double backward,
and the composed path for what it leaves (broadcast shapes, beta = 0, empty)."""
import numpy
import pytest
import torch

import ember


def _inputs(count, dtype, seed=0):
    rng = numpy.random.default_rng(seed)
    x, y = rng.standard_normal(count) * 2, rng.standard_normal(count)
    x[:6], y[:6] = [1.0, -1.0, 0.5, numpy.inf, numpy.nan, 2.0], [0.0, 0.0, 0.5, 0.0, 0.0, 0.0]
    return x.astype(dtype), y.astype(dtype)


def _run(lib, name, x, y, reduction, options):
    a, b = lib.tensor(x, requires_grad=True), lib.tensor(y, requires_grad=True)
    loss = getattr(lib.nn.functional, name)(a, b, reduction=reduction, **options)
    (loss if reduction != "none" else (loss * lib.tensor(numpy.linspace(-1, 1, loss.numel()).astype(x.dtype)))
     .sum()).backward()
    return loss.grad_fn.name(), [loss.detach().numpy(), a.grad.numpy(), b.grad.numpy()]


@pytest.mark.parametrize("name, options", [("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}),
                                           ("huber_loss", {}), ("huber_loss", {"delta": 2.0})])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype, count", [("float32", 7), ("float32", 50_000), ("float64", 50_000)])
def test_matches_torch_bit_for_bit(name, options, reduction, dtype, count):
    x, y = _inputs(count, dtype)
    (e_name, e_values), (t_name, t_values) = (_run(lib, name, x, y, reduction, options) for lib in (ember, torch))
    assert e_name == t_name
    for e, t in zip(e_values, t_values):
        if reduction == "none":
            numpy.testing.assert_array_equal(e, t)
        else:   # a sum of many terms: the order of the additions may differ
            numpy.testing.assert_allclose(e, t, rtol=1e-5 if dtype == "float32" else 1e-12)


@pytest.mark.filterwarnings("ignore:Using a target size")   # the broadcast case warns, as PyTorch's
@pytest.mark.parametrize("name", ["smooth_l1_loss", "huber_loss"])
def test_double_backward_and_composed_cases_match_torch(name):
    x, y = _inputs(40, "float64", seed=1)
    x, y = x[6:], y[6:]
    results = []
    for lib in (ember, torch):
        a = lib.tensor(x, requires_grad=True)
        first, = lib.autograd.grad(getattr(lib.nn.functional, name)(a, lib.tensor(y)), a, create_graph=True)
        second, = lib.autograd.grad((first * first).sum(), a)
        broadcast = getattr(lib.nn.functional, name)(lib.tensor(x.reshape(2, 17)), lib.tensor(y[:17]))
        empty = getattr(lib.nn.functional, name)(lib.zeros(0), lib.zeros(0), reduction="sum")
        results.append([first.detach().numpy(), second.numpy(), broadcast.numpy(), empty.numpy()])
    for e, t in zip(*results):
        numpy.testing.assert_allclose(e, t, rtol=1e-12, atol=1e-12)
    zero = [lib.nn.functional.smooth_l1_loss(lib.tensor(x), lib.tensor(y), beta=0.0).item() for lib in (ember, torch)]
    assert zero[0] == pytest.approx(zero[1], rel=1e-12)
