"""Tensor.register_post_accumulate_grad_hook, side by side with torch: what the hook sees and when it runs."""
import numpy as np
import pytest
import torch

import ember


def _events(lib):
    events = []
    x = lib.tensor([1.0, -2.0, 3.0])
    w1 = lib.tensor([0.5, 1.5, -1.0], requires_grad=True)
    w2 = lib.tensor([2.0, 3.0, 4.0], requires_grad=True)
    for name, w in (("w1", w1), ("w2", w2)):
        w.register_post_accumulate_grad_hook(lambda t, name=name: events.append((name, t.grad.tolist())))
    h = (w1 * x).relu()
    h.register_hook(lambda g: events.append(("h", g.tolist())))
    (w2 * h).sum().backward()
    (w2 * w2).sum().backward()   # a second backward: hooks see the accumulated gradient
    return events


def test_runs_when_the_gradient_is_ready_and_sees_grad_like_torch():
    assert _events(ember) == _events(torch)


def test_fires_once_for_a_leaf_used_twice():
    calls = []
    for lib in (torch, ember):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        w.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.tolist()))
        (w * w + 3 * w).sum().backward()
    assert calls[0] == calls[1] and len(calls) == 2


def test_handle_removes_and_grad_calls_skip():
    w = ember.tensor([1.0], requires_grad=True)
    calls = []
    handle = w.register_post_accumulate_grad_hook(lambda t: calls.append(1))
    ember.autograd.grad((w * 2).sum(), [w])
    assert calls == []   # autograd.grad accumulates nothing, as in torch
    handle.remove()
    (w * 2).sum().backward()
    assert calls == [] and np.allclose(w.grad.numpy(), 2)


def test_errors_match_torch():
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="doesn't require gradient"):
            lib.ones(2).register_post_accumulate_grad_hook(lambda t: None)
        with pytest.raises(RuntimeError, match="non-leaf"):
            (lib.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(lambda t: None)
