"""TransformerEncoderLayer's evaluation path (``nn/modules/_transformer_eval.py``): with nothing recorded, the
residual adds and layer norms written in place and ReLU in place. PyTorch's values (its own fast path or module path)
over masks (key padding, causal, float), norm_first both ways, relu/gelu, float32/float64, batch 1, odd sizes and a
non-contiguous input; the same bits as ember's module path; and the cases that must take the module path do."""
import numpy
import pytest
import torch

import ember
from ember.nn.modules import _transformer_eval
from tests.oracle import assert_same, count_calls

RNG = numpy.random.default_rng(16)


def _pair(d_model, nhead, ff, dtype, **options):
    """The same TransformerEncoderLayer in ember and PyTorch (ember's weights copied), in eval mode."""
    e = ember.nn.TransformerEncoderLayer(d_model, nhead, ff, batch_first=True, dtype=getattr(ember, dtype), **options)
    t = torch.nn.TransformerEncoderLayer(d_model, nhead, ff, batch_first=True, dtype=getattr(torch, dtype),
                                         **options)
    with torch.no_grad():
        for (name, p), (_, q) in zip(e.named_parameters(), t.named_parameters()):
            q.copy_(torch.from_numpy(p.detach().numpy()))
    return e.eval(), t.eval()


def _masks(kind, batch, length, dtype):
    """(src_mask, src_key_padding_mask, is_causal) for ember and for PyTorch."""
    if kind == "none":
        return (None, None, False), (None, None, False)
    if kind == "padding":   # right-padded sequences, one of them full
        pad = numpy.zeros((batch, length), bool)
        for i in range(batch):
            pad[i, length - i % 3:] = i % 3 > 0
        return (None, ember.tensor(pad), False), (None, torch.tensor(pad), False)
    if kind == "causal":
        mask = numpy.triu(numpy.full((length, length), -numpy.inf, dtype), 1)
        return (ember.tensor(mask), None, True), (torch.tensor(mask), None, True)
    mask = RNG.standard_normal((length, length)).astype(dtype)   # a float bias
    return (ember.tensor(mask), None, False), (torch.tensor(mask), None, False)


CASES = [   # (d_model, nhead, dim_feedforward, batch, length)
    (16, 4, 24, 3, 7),
    (12, 2, 20, 1, 5),   # batch 1
    (10, 5, 9, 2, 1),    # odd heads, one position
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("masks", ["none", "padding", "causal", "float"])
def test_encoder_layer_eval(monkeypatch, case, dtype, norm_first, activation, masks):
    d_model, nhead, ff, batch, length = case
    e, t = _pair(d_model, nhead, ff, dtype, norm_first=norm_first, activation=activation)
    x = RNG.standard_normal((batch, length, d_model)).astype(dtype)
    (em, ep, ec), (tm, tp, tc) = _masks(masks, batch, length, dtype)
    expected = e(ember.tensor(x), em, ep, ec)   # grad mode on: the module path
    calls = count_calls(monkeypatch, _transformer_eval, ["_add_norm"])
    with ember.no_grad():
        got = e(ember.tensor(x), em, ep, ec)
    assert calls == {"_add_norm": 2}
    assert got.dtype == expected.dtype and numpy.array_equal(got.numpy(), expected.detach().numpy())
    want = t(torch.tensor(x), tm, tp, tc).detach()   # PyTorch's module path (its fast path differs on float masks)
    assert_same(got, want, rtol=1e-4 if dtype == "float32" else 1e-10, atol=1e-5 if dtype == "float32" else 1e-10)


def test_encoder_stack_and_noncontiguous_input():
    """A two-layer TransformerEncoder on a transposed (non-contiguous) input, against PyTorch and the module path."""
    e, t = _pair(16, 4, 32, "float32")
    e_stack = ember.nn.TransformerEncoder(e, 2, enable_nested_tensor=False).eval()
    t_stack = torch.nn.TransformerEncoder(t, 2, enable_nested_tensor=False).eval()
    x = RNG.standard_normal((9, 4, 16)).astype(numpy.float32)
    xe, xt = ember.tensor(x).transpose(0, 1), torch.tensor(x).transpose(0, 1)
    expected = e_stack(xe)
    with ember.no_grad():
        got = e_stack(xe)
    numpy.testing.assert_array_equal(got.numpy(), expected.detach().numpy())
    with torch.no_grad():
        assert_same(got, t_stack(xt), rtol=1e-4, atol=1e-5)
    assert numpy.array_equal(xe.numpy(), x.transpose(1, 0, 2))   # the input is left as it was


def _hooked(layer):
    layer.linear1.register_forward_hook(lambda module, args, output: None)


@pytest.mark.parametrize("change", ["hook", "training", "requires_grad", "gelu_tanh", "dtype"])
def test_module_path_where_needed(monkeypatch, change):
    """Hooks, active dropout and recorded gradients take the module path; a GELU module (tanh) and float64 weights on
    float32 input are still right."""
    e, t = _pair(16, 4, 24, "float32", dropout=0.0)
    x = RNG.standard_normal((2, 5, 16)).astype(numpy.float32)
    if change == "hook":
        _hooked(e)
    elif change == "training":
        e.train()
        e.dropout.p = 0.5
    elif change == "gelu_tanh":
        e.activation = ember.nn.GELU("tanh")
        t.activation = torch.nn.GELU("tanh")
    calls = count_calls(monkeypatch, _transformer_eval, ["_add_norm"])
    if change == "requires_grad":
        got = e(ember.tensor(x))
        assert got.grad_fn is not None and not calls
        return
    with ember.no_grad():
        if change == "dtype":
            e.norm2.double()
            t.norm2.double()
            with pytest.raises(RuntimeError) as error, torch.no_grad():
                t(torch.tensor(x))
            with pytest.raises(type(error.value)):
                e(ember.tensor(x))
            return
        got = e(ember.tensor(x))
    assert bool(calls) == (change == "gelu_tanh")
    if change == "training":
        return   # dropout drew its mask: values differ from PyTorch's draws
    assert_same(got, t(torch.tensor(x)).detach(), rtol=1e-4, atol=1e-5)   # PyTorch's module path
