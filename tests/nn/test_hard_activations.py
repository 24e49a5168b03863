"""hardswish and hardsigmoid as primitives: PyTorch's bits for values and gradients (at -3, 3, +-0 and +-inf, NaN's
values, small and large arrays), its node names, double backward, and the in-place forms."""
import numpy
import pytest
import torch

import ember

EDGES = [-3.0, 3.0, -0.0, 0.0, numpy.nan, numpy.inf, -numpy.inf, 1.5, -1.5, 2.9999998, -2.9999998]


@pytest.mark.parametrize("name", ["hardswish", "hardsigmoid"])
@pytest.mark.parametrize("count", [11, 300_000])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values_gradients_and_node_names_match_torch(name, count, dtype):
    rng = numpy.random.default_rng(0)
    x = numpy.concatenate([EDGES, rng.standard_normal(count - len(EDGES)) * 4]).astype(dtype)
    g = rng.standard_normal(count).astype(dtype)
    results = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        y = getattr(lib.nn.functional, name)(t)
        y.backward(lib.tensor(g))
        results.append((y.grad_fn.name(), y.detach().numpy(), t.grad.numpy()))
    (e_name, ey, eg), (t_name, ty, tg) = results
    assert e_name == t_name
    numpy.testing.assert_array_equal(ey, ty)
    # a zero gradient's sign may differ; at NaN PyTorch's vectorised and scalar loops disagree (NaN or grad for
    # hardswish, grad / 6 or 0 for hardsigmoid: ember gives the vectorised loop's), so NaN inputs are left out
    number = ~numpy.isnan(x)
    numpy.testing.assert_array_equal(numpy.abs(eg[number]), numpy.abs(tg[number]))


@pytest.mark.parametrize("name", ["hardswish", "hardsigmoid"])
def test_double_backward_and_inplace_match_torch(name):
    x = numpy.random.default_rng(1).standard_normal((40, 30)) * 4
    results = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        first, = lib.autograd.grad((getattr(lib.nn.functional, name)(t) ** 2).sum(), t, create_graph=True)
        # PyTorch has no derivative of hardsigmoid's backward (ember's: zero, as the function is piecewise linear)
        second, = lib.autograd.grad(first.sum(), t) if name == "hardswish" else (lib.zeros(1),)
        inplace = getattr(lib.nn.functional, name)(lib.tensor(x) * 1.0, inplace=True)
        results.append((first.detach().numpy(), second.numpy(), inplace.numpy()))
    for e, t in zip(*results):
        numpy.testing.assert_allclose(e, t, rtol=1e-12, atol=1e-12)
