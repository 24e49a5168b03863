"""Float32 softmax and log_softmax over the last dim with PyTorch's bits (ops/_softmax_bits.py: SLEEF's expf and
logf, the 16-lane vector sum and the reciprocal of ATen's lastdim kernel): raw bits for row lengths below, at and above
a vector and its multiples, several leading dims, transposed input, -inf, large and tiny logits, one and two threads;
their gradients and cross_entropy's forward."""
import numpy
import pytest
import torch

import ember
from ember.ops import _softmax_bits
from tests.ops.test_sum_bits import assert_bits, threads

SHAPES = [(5, 1), (7, 3), (64, 10), (100, 10), (40, 15), (40, 16), (40, 17), (30, 33), (20, 64), (9, 100), (3, 1500),
          (4, 1000), (2, 3, 4, 40), (8192,)]


def _logits(shape, scale, seed):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=generator) * scale


@pytest.mark.parametrize("count", [1, 2])
@pytest.mark.parametrize("shape", SHAPES)
def test_softmax_bits(shape, count):
    for scale in (1.0, 4.0, 30.0):
        x = _logits(shape, scale, len(shape) * 100 + shape[-1])
        with threads(count):
            assert_bits(ember.softmax(ember.tensor(x.numpy()), -1), torch.softmax(x, -1))


def test_softmax_bits_layouts_and_specials():
    x = _logits((16, 24), 3.0, 7)
    x[0, :5] = float("-inf")
    x[1, 3] = 80.0
    x[2] = x[2] * 1e-6
    x[3, :] = float("-inf")
    x[3, 0] = 0.0
    assert_bits(ember.softmax(ember.tensor(x.numpy()), 1), torch.softmax(x, 1))
    transposed = x.t()
    assert_bits(ember.softmax(ember.tensor(x.numpy()).t(), 1), torch.softmax(transposed, 1))
    assert_bits(ember.nn.functional.softmax(ember.tensor(x.numpy()), dim=-1, dtype=ember.float32),
                torch.nn.functional.softmax(x, dim=-1, dtype=torch.float32))


def test_exp_sleef_matches_the_kernel():
    """Rows [v, 0] with v <= 0: the kernel's max is 0, so its sum is 1 + exp(v), its first output
    exp(v) * (1 / (1 + exp(v)))."""
    v = -torch.rand(30000, generator=torch.Generator().manual_seed(3)) * 110
    rows = torch.stack([v, torch.zeros_like(v)], 1)
    assert_bits(ember.softmax(ember.tensor(rows.numpy()), 1), torch.softmax(rows, 1))


@pytest.mark.parametrize("count", [1, 2])
@pytest.mark.parametrize("shape", SHAPES)
def test_log_softmax_bits(shape, count):
    for scale in (1.0, 4.0, 30.0):
        x = _logits(shape, scale, shape[-1])
        with threads(count):
            assert_bits(ember.log_softmax(ember.tensor(x.numpy()), -1), torch.log_softmax(x, -1))


def test_log_sleef_matches_the_kernel():
    """log_softmax of rows [0, v, ..., v] (v <= 0): the kernel's log is of the sum 1 + (n - 1) exp(v), over sums
    from 1 to 64."""
    v = -torch.rand(1000, 1, generator=torch.Generator().manual_seed(4)) * 20
    rows = torch.cat([torch.zeros(1000, 1), v.expand(1000, 63)], 1)
    assert_bits(ember.log_softmax(ember.tensor(rows.numpy()), 1), torch.log_softmax(rows, 1))


def test_cross_entropy_rows_bits():
    """Each row's loss (reduction 'none'); 'sum' and 'mean' add them in nll_loss's own cascade, not emulated."""
    x = _logits((64, 10), 3.0, 21)
    target = torch.randint(0, 10, (64,), generator=torch.Generator().manual_seed(22))
    mine = ember.nn.functional.cross_entropy(ember.tensor(x.numpy()), ember.tensor(target.numpy()), reduction="none")
    assert_bits(mine, torch.nn.functional.cross_entropy(x, target, reduction="none"))


def test_large_inputs_keep_numpy_path():
    x = _logits((_softmax_bits.MOST // 64 + 1, 64), 1.0, 1)
    numpy.testing.assert_allclose(ember.softmax(ember.tensor(x.numpy()), -1).numpy(), torch.softmax(x, -1).numpy(),
                                  rtol=2e-6, atol=1e-9)


@pytest.mark.parametrize("shape", [(64, 10), (40, 7), (40, 16), (40, 17), (30, 33), (9, 100), (3, 1500), (2, 3, 40)])
def test_backward_bits(shape):
    """Gradients bit for bit: softmax's sum fuses the partial last vector's multiply-add; log_softmax's takes SLEEF's
    exp of the output and one fused multiply-subtract."""
    x, grad = _logits(shape, 3.0, 11), _logits(shape, 1.0, 12)
    for name in ("softmax", "log_softmax"):
        theirs = x.clone().requires_grad_()
        output = getattr(torch, name)(theirs, -1)
        output.backward(grad)
        mine = ember.tensor(x.numpy(), requires_grad=True)
        getattr(ember, name)(mine, -1).backward(ember.tensor(grad.numpy()))
        assert_bits(mine.grad, theirs.grad)


def test_backward_with_create_graph_keeps_the_differentiable_path():
    x = _logits((6, 5), 2.0, 13)
    mine = ember.tensor(x.numpy(), requires_grad=True)
    first, = ember.autograd.grad(ember.softmax(mine, -1)[:, 0].sum(), mine, create_graph=True)
    second, = ember.autograd.grad(first.pow(2).sum(), mine)
    theirs = x.clone().requires_grad_()
    first_t, = torch.autograd.grad(torch.softmax(theirs, -1)[:, 0].sum(), theirs, create_graph=True)
    second_t, = torch.autograd.grad(first_t.pow(2).sum(), theirs)
    numpy.testing.assert_allclose(second.numpy(), second_t.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("rows", [1, 17, 64, 257, 5000])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_reductions_bits(rows, weighted):
    """nll_loss's 'sum' and 'mean' add the rows in its own cascade (ops/_nll_cascade.py), through cross_entropy's fused
    path and nll_loss of PyTorch's own log-probabilities, float32 and float64."""
    generator = torch.Generator().manual_seed(rows)
    target = torch.randint(0, 10, (rows,), generator=generator)
    for dtype in (torch.float32, torch.float64):
        x = torch.randn(rows, 10, generator=generator, dtype=dtype) * 3
        weight = torch.rand(10, generator=generator, dtype=dtype) if weighted else None
        mine_weight = None if weight is None else ember.tensor(weight.numpy())
        log_probs = torch.log_softmax(x, 1)
        for reduction in ("sum", "mean"):
            mine = ember.nn.functional.nll_loss(ember.tensor(log_probs.numpy()), ember.tensor(target.numpy()),
                                                mine_weight, reduction=reduction)
            assert_bits(mine, torch.nn.functional.nll_loss(log_probs, target, weight, reduction=reduction))
            if dtype == torch.float32:
                mine = ember.nn.functional.cross_entropy(ember.tensor(x.numpy()), ember.tensor(target.numpy()),
                                                         mine_weight, reduction=reduction)
                assert_bits(mine, torch.nn.functional.cross_entropy(x, target, weight, reduction=reduction))


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_cross_entropy_gradient_bits(reduction):
    """The fused path's gradient: exp of log_softmax's output by SLEEF times the incoming gradient, the target's entry
    p * g - g rounded once, as nll_loss_backward then log_softmax_backward give it."""
    x = _logits((300, 10), 3.0, 31)
    target = torch.randint(0, 10, (300,), generator=torch.Generator().manual_seed(32))
    theirs = x.clone().requires_grad_()
    output = torch.nn.functional.cross_entropy(theirs, target, reduction=reduction)
    grad = torch.rand(output.shape, generator=torch.Generator().manual_seed(33)) + 0.5
    output.backward(grad)
    mine = ember.tensor(x.numpy(), requires_grad=True)
    ember.nn.functional.cross_entropy(mine, ember.tensor(target.numpy()), reduction=reduction).backward(
        ember.tensor(grad.numpy()))
    assert_bits(mine.grad, theirs.grad)
