"""cross_entropy's one-primitive path against its general path (log_softmax + nll_loss) and PyTorch."""
import numpy
import pytest
import torch

import ember
from ember.ops import loss as loss_ops
from ember.ops.cross_entropy import CrossEntropyRows


def _inputs(shape, dtype, seed=0):
    rng = numpy.random.default_rng(seed)
    return (rng.standard_normal(shape) * 3).astype(dtype), rng.integers(0, shape[1], shape[0])


def _ember(x, y, general, monkeypatch, **kwargs):
    with monkeypatch.context() as patch:
        if general:
            patch.setattr(loss_ops, "fused_cross_entropy", lambda *args: None)
        e = ember.tensor(x, requires_grad=True)
        out = ember.nn.functional.cross_entropy(e, ember.tensor(y), **kwargs)
        (out * ember.tensor(numpy.linspace(0.5, 2, out.numel()).reshape(out.shape).astype(x.dtype))).sum().backward()
    return out, e.grad


@pytest.mark.parametrize("shape", [(6, 5), (1, 3), (4, 1), (64, 10)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_fused_path_matches_general_path_and_torch(shape, dtype, reduction, monkeypatch):
    x, y = _inputs(shape, dtype)
    fused, fused_grad = _ember(x, y, False, monkeypatch, reduction=reduction)
    general, general_grad = _ember(x, y, True, monkeypatch, reduction=reduction)
    assert type(fused.grad_fn).__name__ == "NllLossBackward0" and fused.dtype == general.dtype
    numpy.testing.assert_array_equal(fused.detach().numpy(), general.detach().numpy(), strict=True)
    tolerance = 1e-6 if dtype == "float32" else 1e-13
    numpy.testing.assert_allclose(fused_grad.numpy(), general_grad.numpy(), rtol=tolerance, atol=tolerance)
    t = torch.tensor(x, requires_grad=True)
    out = torch.nn.functional.cross_entropy(t, torch.tensor(y), reduction=reduction)
    (out * torch.tensor(numpy.linspace(0.5, 2, out.numel()).reshape(out.shape).astype(x.dtype))).sum().backward()
    numpy.testing.assert_allclose(fused.detach().numpy(), out.detach().numpy(), rtol=tolerance * 10, atol=tolerance)
    numpy.testing.assert_allclose(fused_grad.numpy(), t.grad.numpy(), rtol=tolerance * 10, atol=tolerance)


def test_the_fused_primitive_is_taken_only_for_the_plain_case(monkeypatch):
    calls, forward = [], CrossEntropyRows.__dict__["forward"].__func__
    monkeypatch.setattr(CrossEntropyRows, "forward", staticmethod(lambda *args: calls.append(1) or forward(*args)))
    x, y = _inputs((5, 4), "float32")
    e, target = ember.tensor(x, requires_grad=True), ember.tensor(y)
    ember.nn.functional.cross_entropy(e, target)
    assert calls == [1]
    for kwargs in (dict(weight=ember.ones(4)), dict(label_smoothing=0.1), dict(ignore_index=int(y[0]))):
        general = ember.nn.functional.cross_entropy(e, target, **kwargs)
        expected = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(y), **{
            k: torch.ones(4) if k == "weight" else v for k, v in kwargs.items()})
        numpy.testing.assert_allclose(general.detach().numpy(), expected.numpy(), rtol=1e-6)
    assert calls == [1]   # weights, smoothing and a present ignore_index take the general path
    with pytest.raises(IndexError, match="out of bounds"):
        ember.nn.functional.cross_entropy(e, ember.tensor([0, 1, 2, 3, 4]))
    with pytest.raises(IndexError, match="out of bounds"):   # negative labels too (unsigned in the range test)
        ember.nn.functional.cross_entropy(e, ember.tensor([0, 1, -2, 3, 1]))
    ignored = [0, -100, 2, -100, 1]   # the default ignore_index, negative: the general path leaves those rows out
    general = ember.nn.functional.cross_entropy(e, ember.tensor(ignored))
    expected = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(ignored))
    numpy.testing.assert_allclose(general.detach().numpy(), expected.numpy(), rtol=1e-6)
    assert calls == [1]


def test_double_backward_through_the_fused_path():
    x = ember.randn(4, 3, dtype=ember.float64, requires_grad=True)
    y = ember.tensor([2, 0, 1, 1])
    assert ember.autograd.gradcheck(lambda x: ember.nn.functional.cross_entropy(x, y), (x,))
    assert ember.autograd.gradgradcheck(lambda x: ember.nn.functional.cross_entropy(x, y, reduction="sum"), (x,))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("order", ["C", "F"])
def test_pooled_arrays_keep_the_bits_and_are_not_reused_while_held(reduction, order, monkeypatch):
    from ember.ops import _buffers
    monkeypatch.setattr(_buffers, "MIN_BYTES", 0)   # pool every array, however small
    monkeypatch.setattr(_buffers, "_pool", type(_buffers._pool)())
    x, y = _inputs((33, 17), "float32", seed=3)
    x = numpy.asarray(x, order=order)
    shifted = x - x.max(axis=1, keepdims=True)   # the primitive's float steps, written out
    exp = numpy.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    losses = -(shifted[numpy.arange(33), y] - numpy.log(total)[:, 0])
    probabilities = exp / total
    weights = numpy.linspace(0.5, 2, 33).astype(numpy.float32)
    held = []
    for _ in range(3):   # earlier losses and gradients stay referenced while the next call runs
        e = ember.tensor(x, requires_grad=True)
        out = ember.nn.functional.cross_entropy(e, ember.tensor(y), reduction=reduction)
        grad = ember.tensor(weights) if reduction == "none" else ember.tensor(numpy.float32(1.5))
        out.backward(grad, retain_graph=True)
        first = e.grad.numpy().copy()
        e.grad = None
        out.backward(grad)   # the kept probabilities were not written by the first backward
        held.append((out, e.grad))
        numpy.testing.assert_array_equal(e.grad.numpy(), first)
        with ember.no_grad():
            plain = ember.nn.functional.cross_entropy(ember.tensor(x), ember.tensor(y), reduction=reduction)
        numpy.testing.assert_array_equal(plain.numpy(), out.detach().numpy())
    scale = grad.numpy() / (33 if reduction == "mean" else 1)
    expected_grad = probabilities.copy()
    expected_grad[numpy.arange(33), y] -= 1
    expected_grad *= scale[:, None] if reduction == "none" else scale
    expected = {"none": losses, "sum": losses.sum(), "mean": losses.sum() / numpy.float32(33)}[reduction]
    for out, gradient in held:
        numpy.testing.assert_array_equal(out.detach().numpy(), expected)
        numpy.testing.assert_array_equal(gradient.numpy(), expected_grad)
