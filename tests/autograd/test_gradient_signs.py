"""Zero gradients carry PyTorch's sign: its backward kernels select (``mask ? grad : 0``) or return ``zeros_like``,
so an element the op does not pass gets +0 whatever the incoming gradient, where a product with a mask (``grad *
0``) gives -0 for a negative gradient and NaN for a NaN one. Compared bit for bit with torch (signbit included), on
the engine's array path (no create_graph) and the Tensor path (create_graph)."""
import numpy
import pytest
import torch

import ember

VALUES = [-3.0, -1.5, -1.0, -0.5, -0.0, 0.0, 0.4, 0.5, 1.0, 1.5, 3.0, 7.0]   # no NaN: PyTorch's vectorised
# kernels treat a NaN input by its position (hardtanh)

OPS = {
    "relu": lambda lib, x: lib.relu(x),
    "relu_inplace": lambda lib, x: lib.nn.functional.relu(x.clone(), inplace=True),
    "relu6": lambda lib, x: lib.nn.functional.relu6(x),
    "hardtanh": lambda lib, x: lib.nn.functional.hardtanh(x),
    "hardtanh_inplace": lambda lib, x: lib.nn.functional.hardtanh(x.clone(), -0.5, 1.5, inplace=True),
    "hardsigmoid": lambda lib, x: lib.nn.functional.hardsigmoid(x),
    "hardswish": lambda lib, x: lib.nn.functional.hardswish(x),
    "round": lambda lib, x: lib.round(x),
    "round_decimals": lambda lib, x: lib.round(x, decimals=1),
    "floor": lambda lib, x: lib.floor(x),
    "ceil": lambda lib, x: lib.ceil(x),
    "trunc": lambda lib, x: lib.trunc(x),
    "sign": lambda lib, x: lib.sign(x),
    "pow_zero": lambda lib, x: x ** 0,
    "relu_squared": lambda lib, x: lib.relu(x) ** 2,
    "sign_times_x": lambda lib, x: lib.sign(x) * x,
    "max_all": lambda lib, x: x.max().expand(3),   # zeros filled with the shares
    "min_all": lambda lib, x: x.min().expand(3),
    "median_all": lambda lib, x: x.median().expand(3),
    "amax": lambda lib, x: x.amax().expand(3),   # the mask times the shares: -0 in PyTorch too
    "max_dim": lambda lib, x: x.reshape(4, -1).max(1).values,
    "copysign": lambda lib, x: lib.copysign(x, -lib.ones_like(x)),   # grad * ratio: -0 in PyTorch at 0
    "angle": lambda lib, x: lib.angle(x),
    "nextafter": lambda lib, x: lib.nextafter(x, lib.zeros_like(x)),
    "norm_inf": lambda lib, x: x.norm(float("inf")).expand(3),
    "norm_neg_inf_dim": lambda lib, x: x.reshape(4, -1).norm(float("-inf"), dim=1),
    "vector_norm_inf": lambda lib, x: lib.linalg.vector_norm(x, float("inf")).expand(3),
    "prelu": lambda lib, x: lib.nn.functional.prelu(x, lib.tensor([0.0], dtype=x.dtype)),   # grad * slope: -0
    "prelu_channels": lambda lib, x: lib.nn.functional.prelu(x.reshape(2, 2, 6),
                                                             lib.tensor([0.0, 0.25], dtype=x.dtype)),
    "max_pool1d": lambda lib, x: lib.nn.functional.max_pool1d(x[None, None], 2),   # disjoint windows
    "max_pool1d_overlapping": lambda lib, x: lib.nn.functional.max_pool1d(x[None, None], 3, 1),
    "max_pool2d_ceil": lambda lib, x: lib.nn.functional.max_pool2d(x.reshape(1, 1, 4, 6), 2, ceil_mode=True),
}


def _gradient(lib, op, values, upstream, dtype, create_graph):
    x = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True)
    y = OPS[op](lib, x)
    g = lib.tensor(upstream[:y.numel()], dtype=getattr(lib, dtype)).reshape(y.shape)
    grad, = lib.autograd.grad(y, x, g, create_graph=create_graph)
    return grad.detach().numpy()


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", list(OPS))
def test_zero_gradients_have_pytorchs_sign(op, dtype, create_graph):
    values = VALUES * 2
    upstream = [-1.0] * len(VALUES) + [float("nan")] * 3 + [1.0] * (len(VALUES) - 3)
    expected = _gradient(torch, op, values, upstream, dtype, False)
    got = _gradient(ember, op, values, upstream, dtype, create_graph)
    numpy.testing.assert_array_equal(got, expected)
    assert (numpy.signbit(got) == numpy.signbit(expected)).all(), (got, expected)


@pytest.mark.parametrize("op", ["relu", "relu6", "hardtanh", "hardsigmoid", "hardswish"])
def test_zero_gradient_signs_of_large_inputs(op):
    """Large inputs take the pooled, chunked array paths."""
    rng = numpy.random.default_rng(0)
    values = (rng.standard_normal(70_000) * 4).astype(numpy.float32).tolist()
    upstream = rng.standard_normal(70_000).astype(numpy.float32).tolist()
    expected = _gradient(torch, op, values, upstream, "float32", False)
    got = _gradient(ember, op, values, upstream, "float32", False)
    numpy.testing.assert_array_equal(got, expected)
    assert (numpy.signbit(got) == numpy.signbit(expected)).all()


def test_zero_gradients_of_other_operands():
    """The operands PyTorch gives zeros_like: nextafter's and copysign's ``other``, normal's mean and std."""
    got = {}
    for lib in (torch, ember):
        x, other = lib.tensor([-1.0, 0.0, 2.0]), lib.tensor([0.0, -2.0, 3.0], requires_grad=True)
        mean, std = lib.tensor([0.0, -1.0], requires_grad=True), lib.tensor([1.0, 2.0], requires_grad=True)
        g = -lib.ones(3)
        got[lib] = [lib.autograd.grad(lib.nextafter(x, other), other, g)[0],
                    lib.autograd.grad(lib.copysign(x, other), other, g)[0],
                    *lib.autograd.grad(lib.normal(mean, std), (mean, std), g[:2])]
    for a, b in zip(got[ember], got[torch]):
        assert a.numpy().tobytes() == b.numpy().tobytes(), (a, b)


@pytest.mark.parametrize("norm", ["norm", "vector_norm"])
def test_zero_norm_has_no_gradient(norm):
    """The 0-norm requires grad, but PyTorch's backward gives its input no gradient (None)."""
    for lib in (torch, ember):
        x = lib.tensor([1.0, 0.0, -2.0], requires_grad=True)
        y = x.norm(0) if norm == "norm" else lib.linalg.vector_norm(x, 0)
        assert y.requires_grad and y.item() == 2.0
        y.backward()
        assert x.grad is None
