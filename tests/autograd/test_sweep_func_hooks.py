"""Hooks, retain_grad and the checks of autograd.grad / backward(inputs=) that a differential sweep found apart from
PyTorch 2.13: each program runs on ember and on torch, and the results (or the exception's type and message) match."""
import numpy as np
import pytest
import torch

import ember


def _leaf(L, n=3):
    return L.tensor(np.linspace(-1.0, 2.0, n), requires_grad=True)


def _hook_dtype(L):
    x = _leaf(L)
    x.register_hook(lambda g: g.float())
    (x * 2).sum().backward()


def _hook_shape(L):
    x = _leaf(L)
    y = x * 3
    y.register_hook(lambda g: g[:2])
    y.sum().backward()


def _hook_not_tensor(L):
    x = _leaf(L)
    x.register_hook(lambda g: 3.0)
    (x * 2).sum().backward()


def _node_hook_none_replaced(L):
    x = _leaf(L)
    y = x * 3
    y.grad_fn.register_hook(lambda gi, go: (gi[0], gi[0]))
    y.sum().backward()


def _prehook_shape(L):
    x = _leaf(L)
    y = x * 3
    y.grad_fn.register_prehook(lambda go: (go[0][:2],))
    y.sum().backward()


def _prehook_count(L):
    x = _leaf(L)
    y = x * 3
    y.grad_fn.register_prehook(lambda go: (go[0], go[0]))
    y.sum().backward()


def _materialize_not_unused(L):
    x, y = _leaf(L), _leaf(L, 2)
    L.autograd.grad((x * 2).sum(), [x, y], materialize_grads=True, allow_unused=False)


def _backward_input_without_grad(L):
    x = _leaf(L)
    (x * 2).sum().backward(inputs=[L.ones(2)])


def _grad_no_inputs(L):
    L.autograd.grad((_leaf(L) * 2).sum(), [])


def _detach_view_in_place(L):
    (_leaf(L) * 1)[:2].detach_()


def _post_accumulate_returns(L):
    x = _leaf(L)
    x.register_post_accumulate_grad_hook(lambda t: t.grad * 2)
    (x * 3).sum().backward()


def _extra_grad_outputs(L):
    x = _leaf(L)
    return L.autograd.grad([x * 2], x, [L.ones(3, dtype=L.float64), None])


def _fewer_grad_outputs(L):
    x = _leaf(L)
    L.autograd.grad([x * 2, x * 3], x, [L.ones(3, dtype=L.float64)])


def _batched(L, grad_outputs, **kwargs):
    x, unused = _leaf(L), _leaf(L, 2)
    return L.autograd.grad(x.exp(), [x, unused], grad_outputs, is_grads_batched=True, **kwargs)


def _batched_none(L):
    _batched(L, [None], allow_unused=True)


def _batched_none_scalar(L):
    x = _leaf(L)
    L.autograd.grad(x.exp().sum(), x, None, is_grads_batched=True)


ERRORS = {
    "tensor hook changes the dtype": _hook_dtype,
    "tensor hook changes the shape": _hook_shape,
    "tensor hook returns a number": _hook_not_tensor,
    "node hook replaces a None gradient": _node_hook_none_replaced,
    "node pre-hook changes the shape": _prehook_shape,
    "node pre-hook returns too many": _prehook_count,
    "materialize_grads with allow_unused=False": _materialize_not_unused,
    "backward(inputs=) given a tensor without requires_grad": _backward_input_without_grad,
    "grad() given no inputs": _grad_no_inputs,
    "detach_ of a view": _detach_view_in_place,
    "post-accumulate-grad hook returning a tensor": _post_accumulate_returns,
    "fewer grad_outputs than outputs": _fewer_grad_outputs,
    "is_grads_batched with a None grad_output": _batched_none,
    "is_grads_batched with a None grad_output of a scalar": _batched_none_scalar,
}


@pytest.mark.parametrize("name", ERRORS)
def test_error_as_torch(name):
    with pytest.raises((RuntimeError, TypeError, ValueError)) as expected:
        ERRORS[name](torch)
    with pytest.raises(type(expected.value)) as got:
        ERRORS[name](ember)
    assert str(got.value) == str(expected.value).replace("torch.", "ember.").replace("torch/", "ember/")


def _retained_inputs(L):
    x = _leaf(L)
    y = x * 2
    y.retain_grad()
    (y * y).sum().backward(inputs=[y])
    return y.grad, x.grad


def _retained_then_inplace(L):
    x = _leaf(L)
    y = x * 2
    y.retain_grad()
    y.mul_(x)
    (y * 3).sum().backward()
    return y.grad, x.grad


def _retained_then_view_inplace(L):
    x = _leaf(L, 4)
    y = x * 2
    v = y[:2]
    y.retain_grad()
    v.retain_grad()
    v.mul_(3)
    (y * y).sum().backward()
    return y.grad, v.grad, x.grad


def _hook_keeps_dtype(L):
    x = _leaf(L)
    y = x * 2
    y.register_hook(lambda g: g * 10)
    x.register_hook(lambda g: g + 1)
    y.sum().backward()
    return (x.grad,)


def _node_hooks_replace(L):
    x = _leaf(L)
    y = x.exp()
    y.grad_fn.register_prehook(lambda go: (go[0] * 5,))
    y.grad_fn.register_hook(lambda gi, go: (gi[0] + 1,))
    y.sum().backward()
    return (x.grad,)


RESULTS = {
    "backward(inputs=[y]) of a y retaining its grad": _retained_inputs,
    "retain_grad then an in-place op": _retained_then_inplace,
    "retain_grad of a base and its view, then an in-place op on the view": _retained_then_view_inplace,
    "tensor hooks replacing gradients": _hook_keeps_dtype,
    "more grad_outputs than outputs": _extra_grad_outputs,
    "is_grads_batched, materialize_grads": lambda L: _batched(L, L.tensor(np.eye(3)), materialize_grads=True),
    "is_grads_batched, allow_unused": lambda L: _batched(L, L.tensor(np.eye(3)), allow_unused=True),
    "node hooks replacing gradients": _node_hooks_replace,
}


@pytest.mark.parametrize("name", RESULTS)
def test_result_as_torch(name):
    expected = RESULTS[name](torch)
    got = RESULTS[name](ember)
    for e, g in zip(expected, got, strict=True):
        assert (e is None) == (g is None)
        if e is not None:
            np.testing.assert_allclose(g.detach().numpy(), e.detach().numpy(), rtol=1e-12)
