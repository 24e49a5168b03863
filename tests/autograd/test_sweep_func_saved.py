"""``grad_fn._raw_saved_<name>.register_hooks`` (found missing by a differential sweep against PyTorch 2.13): the pack
hook runs at once, backward reads the unpack hook's tensor, and misuse raises PyTorch's errors; each program runs on
ember and on torch."""
import numpy as np
import pytest
import torch

import ember


def _leaf(L):
    return L.tensor([0.5, -1.0, 2.0], dtype=L.float64, requires_grad=True)


def _hooked_exp(L):
    x = _leaf(L)
    y = x.exp()
    log = []
    y.grad_fn._raw_saved_result.register_hooks(lambda t: (log.append("pack"), t * 2)[1],
                                               lambda t: (log.append("unpack"), t + 1)[1])
    packed = list(log)
    y.sum().backward()
    return packed, log, x.grad


def test_hooks_pack_now_and_unpack_in_backward():
    (e_packed, e_log, e_grad), (t_packed, t_log, t_grad) = _hooked_exp(ember), _hooked_exp(torch)
    assert (e_packed, e_log) == (t_packed, t_log)
    np.testing.assert_allclose(e_grad.numpy(), t_grad.numpy(), rtol=1e-12)


def _after_free(L):
    y = _leaf(L).exp()
    raw = y.grad_fn._raw_saved_result
    y.sum().backward()
    raw.register_hooks(lambda t: t, lambda t: t)


def _twice(L):
    y = _leaf(L).sin()   # (held: PyTorch's SavedTensor does not keep its node alive)
    raw = y.grad_fn._raw_saved_self
    raw.register_hooks(lambda t: t, lambda t: t)
    raw.register_hooks(lambda t: t, lambda t: t)


def _under_saved_tensors_hooks(L):
    with L.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        y = _leaf(L).sin()
    y.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t)


def _not_saved(L):
    y = _leaf(L) * 3
    y.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t)


@pytest.mark.parametrize("program", [_after_free, _twice, _under_saved_tensors_hooks, _not_saved])
def test_misuse_as_torch(program):
    with pytest.raises(RuntimeError) as expected:
        program(torch)
    with pytest.raises(RuntimeError) as got:
        program(ember)
    assert str(got.value) == str(expected.value)
