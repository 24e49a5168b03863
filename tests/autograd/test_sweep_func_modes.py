"""Argument checks a differential sweep found apart from PyTorch 2.13 in grad-mode switches, vmap's out_dims and the
anomaly-mode hint of a modified saved tensor: each program runs on ember and on torch, and the results (or the
exception's type and message) match."""
from contextlib import nullcontext

import numpy as np
import pytest
import torch

import ember


def _vmap(L, out_dims, reduce=False):
    x = L.tensor(np.arange(12.0).reshape(4, 3))
    return L.func.vmap(lambda r: r.sum() if reduce else r * 2, out_dims=out_dims)(x)


@pytest.mark.parametrize("out_dims", [2, -3, 5])
@pytest.mark.parametrize("reduce", [False, True])
def test_vmap_out_dims_out_of_range(out_dims, reduce):
    with pytest.raises(IndexError) as expected:
        _vmap(torch, out_dims, reduce)
    with pytest.raises(IndexError) as got:
        _vmap(ember, out_dims, reduce)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("out_dims", [1, -1, -2, 0])
def test_vmap_out_dims_in_range(out_dims):
    np.testing.assert_array_equal(_vmap(ember, out_dims).numpy(), _vmap(torch, out_dims).numpy())


@pytest.mark.parametrize("mode", [1, 0, None, "yes", np.bool_(True), "tensor"])
def test_set_grad_enabled_takes_a_bool_only(mode):
    def call(L):
        L.set_grad_enabled(L.tensor(True) if isinstance(mode, str) and mode == "tensor" else mode)
    try:
        with pytest.raises(TypeError) as expected:
            call(torch)
    finally:
        torch.set_grad_enabled(True)
    try:
        with pytest.raises(TypeError) as got:
            call(ember)
    finally:
        ember.set_grad_enabled(True)
    assert str(got.value) == str(expected.value)
    assert ember.is_grad_enabled()   # a refused call changes nothing


def test_functional_create_graph_not_a_bool():
    def vjp(L):
        x = L.tensor([0.5, 1.5], dtype=L.float64)
        return L.autograd.functional.vjp(lambda t: t ** 3, x, L.ones(2, dtype=L.float64), create_graph=1)
    for e, t in zip(vjp(ember), vjp(torch)):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-12)


def _modified_saved(L, anomaly):
    x = L.tensor([0.5, 1.5, 2.5], dtype=L.float64, requires_grad=True)
    with L.autograd.set_detect_anomaly(anomaly):
        y = x * 1
        z = (y * y).sum()
        y.add_(1)
        z.backward()


@pytest.mark.parametrize("anomaly", [False, True])
def test_modified_saved_tensor_hint_as_torch(anomaly):
    def warned():
        return pytest.warns(UserWarning, match="Error detected in MulBackward0") if anomaly else nullcontext()
    with pytest.raises(RuntimeError) as expected, warned():
        _modified_saved(torch, anomaly)
    with pytest.raises(RuntimeError) as got, warned():
        _modified_saved(ember, anomaly)
    assert str(got.value) == str(expected.value).replace("[torch.", "[ember.")
