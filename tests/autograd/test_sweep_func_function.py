"""Custom autograd.Function checks a differential sweep found apart from PyTorch 2.13 (mark_dirty, save_for_backward
of a non-tensor, a gradient for a non-tensor argument, the legacy instance call): each program runs on ember and on
torch, and the results (or the exception's type and message) match."""
import numpy as np
import pytest
import torch

import ember

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")   # torch's forward_ad uses it


def _fn(L, forward, backward):
    return type("Fn", (L.autograd.Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward)})


def _leaf(L):
    return L.tensor(np.linspace(-1.0, 2.0, 3), requires_grad=True)


def _double_in_place(ctx, x):
    x.mul_(2)
    ctx.mark_dirty(x)
    return x


def _dirty_leaf(L):
    _fn(L, _double_in_place, lambda ctx, g: g * 2).apply(_leaf(L))


def _dirty_not_returned(L):
    def forward(ctx, x):
        _double_in_place(ctx, x)
        return x * 1
    _fn(L, forward, lambda ctx, g: g * 2).apply(_leaf(L) * 1)


def _save_number(L):
    def forward(ctx, x):
        ctx.save_for_backward(x, 3)
        return x * 2
    _fn(L, forward, lambda ctx, g: g).apply(_leaf(L))


def _grad_for_number(L):
    x = _leaf(L)
    _fn(L, lambda ctx, x, k: x * k, lambda ctx, g: (g * 2, g)).apply(x, 3).sum().backward()


def _legacy_call(L):
    _fn(L, lambda ctx, x: x * 2, lambda ctx, g: g)()(_leaf(L))


ERRORS = {
    "mark_dirty of a leaf requiring grad": _dirty_leaf,
    "mark_dirty of an input not returned": _dirty_not_returned,
    "save_for_backward of a number": _save_number,
    "a gradient for a number argument": _grad_for_number,
    "the legacy instance call": _legacy_call,
}


@pytest.mark.parametrize("name", ERRORS)
def test_error_as_torch(name):
    with pytest.raises(Exception) as expected:
        ERRORS[name](torch)
    with pytest.raises(type(expected.value)) as got:
        ERRORS[name](ember)
    assert str(got.value) == str(expected.value)


def _dirty_output(L):
    x = _leaf(L)
    z = x * 1
    out = _fn(L, _double_in_place, lambda ctx, g: g * 2).apply(z)
    (out * out).sum().backward()
    return out is z, z.grad_fn is out.grad_fn, z._version, x.grad


def test_mark_dirty_returns_the_input_itself():
    expected, got = _dirty_output(torch), _dirty_output(ember)
    assert got[:3] == expected[:3]
    np.testing.assert_allclose(got[3].numpy(), expected[3].numpy(), rtol=1e-12)


def _none_for_number(L):
    x = _leaf(L)
    _fn(L, lambda ctx, x, k: x * k, lambda ctx, g: (g * 3, None)).apply(x, 3).sum().backward()
    return x.grad


def test_none_for_a_number_argument():
    np.testing.assert_allclose(_none_for_number(ember).numpy(), _none_for_number(torch).numpy(), rtol=1e-12)


def _custom_jvp(L, jvp):
    fn = type("Fn", (L.autograd.Function,), {"forward": staticmethod(lambda ctx, x: x.sin()),
                                              "jvp": staticmethod(jvp),
                                              "backward": staticmethod(lambda ctx, g: g)})
    fa = L.autograd.forward_ad
    with fa.dual_level():
        dual = fa.make_dual(L.tensor([0.5, 1.0], dtype=L.float64), L.tensor([2.0, 3.0], dtype=L.float64))
        return fa.unpack_dual(fn.apply(dual)).tangent


def test_custom_jvp_returning_too_many_tangents():
    with pytest.raises(RuntimeError) as expected:
        _custom_jvp(torch, lambda ctx, t: (t, t))
    with pytest.raises(RuntimeError) as got:
        _custom_jvp(ember, lambda ctx, t: (t, t))
    assert str(got.value) == str(expected.value)


def test_custom_jvp_one_tangent_in_a_tuple():
    def jvp(ctx, t):
        return (t * 3,)
    np.testing.assert_allclose(_custom_jvp(ember, jvp).numpy(), _custom_jvp(torch, jvp).numpy(), rtol=1e-12)


def _vmapped(L, rule, generate=False):
    namespace = {"forward": staticmethod(lambda x: x * 2), "setup_context": staticmethod(lambda ctx, i, o: None),
                 "backward": staticmethod(lambda ctx, g: g * 2), "vmap": staticmethod(rule)}
    if generate:
        namespace["generate_vmap_rule"] = True
    fn = type("Fn", (L.autograd.Function,), namespace)
    return L.func.vmap(fn.apply)(L.ones(4, 3, dtype=L.float64))


VMAP_RULES = {
    "a vmap rule and generate_vmap_rule": (lambda info, dims, x: (x * 2, 0), True),
    "out_dims of another structure": (lambda info, dims, x: (x * 2, (0, 1)), False),
    "one return": (lambda info, dims, x: x * 2, False),
}


@pytest.mark.parametrize("name", VMAP_RULES)
def test_vmap_rule_errors_as_torch(name):
    rule, generate = VMAP_RULES[name]
    with pytest.raises(RuntimeError) as expected:
        _vmapped(torch, rule, generate)
    with pytest.raises(RuntimeError) as got:
        _vmapped(ember, rule, generate)
    assert str(got.value) == str(expected.value).replace("'torch.", "'ember.")


def test_vmap_rule_result_as_torch():
    rule = lambda info, dims, x: (x * 2 + info.batch_size, dims[0])   # noqa: E731
    np.testing.assert_array_equal(_vmapped(ember, rule).numpy(), _vmapped(torch, rule).numpy())
