"""Inference tensors outside inference_mode (found by a differential sweep against PyTorch 2.13): an in-place change,
saving one for backward, requires_grad_ and _version raise PyTorch's errors; reading one, and a view made in
inference mode of a normal tensor, work as PyTorch's. Each program runs on ember and on torch."""
import numpy as np
import pytest
import torch

import ember


def _inference(L):
    with L.inference_mode():
        return L.tensor([1.0, 2.0, 3.0])


def _leaf(L):
    return L.tensor([0.5, -1.0, 2.0], requires_grad=True)


def _no_grad_add(L, t):
    with L.no_grad():
        t.add_(1)


ERRORS = {
    "add_": lambda L, t: t.add_(1),
    "add_ under no_grad": lambda L, t: _no_grad_add(L, t),
    "setitem": lambda L, t: t.__setitem__(0, 2.0),
    "add_ on a view made outside": lambda L, t: t[1:].add_(1),
    "saved for backward by mul": lambda L, t: _leaf(L) * t,
    "saved for backward by an in-place mul": lambda L, t: (_leaf(L) * 2).mul_(t),
    "saved for backward by matmul": lambda L, t: L.matmul(_leaf(L), t),
    "out=": lambda L, t: L.add(L.ones(3), L.ones(3), out=t),
    "resize_": lambda L, t: t.resize_(4),
    "requires_grad_": lambda L, t: t.requires_grad_(),
    "_version": lambda L, t: t._version,
}


@pytest.mark.parametrize("name", ERRORS)
def test_error_as_torch(name):
    with pytest.raises(RuntimeError) as expected:
        ERRORS[name](torch, _inference(torch))
    with pytest.raises(RuntimeError) as got:
        ERRORS[name](ember, _inference(ember))
    assert str(got.value) == str(expected.value).replace("torch.", "ember.")


def _allowed(L):
    t = _inference(L)
    x = _leaf(L)
    y = x + t   # nothing of t saved
    y.sum().backward()
    normal = L.ones(3)
    with L.inference_mode():
        view = normal.view(3)
        t.mul_(2)   # inside inference mode
    view.add_(1)
    return x.grad, t, normal, (t * 2).detach()


def test_allowed_as_torch():
    for e, t in zip(_allowed(ember), _allowed(torch), strict=True):
        np.testing.assert_allclose(e.numpy(), t.numpy())
