"""A backward that returns None for an input that requires grad: the nodes behind it still run when other paths
reach them (first order, and the second derivative of relu(x)**2, whose mask path gives None)."""
import numpy
import pytest
import torch

import ember


def _half_function(lib):
    class Half(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * 2 + b.detach()

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, None
    return Half


@pytest.mark.parametrize("hooked", [False, True])
def test_a_node_reached_also_by_a_none_gradient_runs(hooked):
    grads, hooked_grads = [], []
    for lib in (ember, torch):
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        if hooked:
            x.register_post_accumulate_grad_hook(lambda t: hooked_grads.append(t.grad.numpy().copy()))
        h = x * 3
        out = _half_function(lib).apply(h, h * 5) + h
        out.sum().backward()
        grads.append(x.grad.numpy().copy())
    numpy.testing.assert_array_equal(grads[0], grads[1])
    numpy.testing.assert_array_equal(grads[1], [9.0, 9.0, 9.0])
    if hooked:
        assert len(hooked_grads) == 2
        numpy.testing.assert_array_equal(*hooked_grads)


@pytest.mark.parametrize("activation", ["relu", "hardtanh", "leaky_relu"])
def test_second_derivative_through_a_mask(activation):
    results = []
    for lib in (ember, torch):
        x = lib.tensor([1.5, -0.5, 2.0, -3.0], requires_grad=True, dtype=lib.float64)
        y = (getattr(lib.nn.functional, activation)(x) ** 3).sum()
        g, = lib.autograd.grad(y, x, create_graph=True)
        h, = lib.autograd.grad(g.sum(), x)
        results.append(h.detach().numpy())
    numpy.testing.assert_allclose(*results, rtol=1e-12)
