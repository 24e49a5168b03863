"""ember.vision.ops' losses (focal, generalized/distance/complete IoU) against torchvision's: values for every
reduction and eps, empty and degenerate boxes, low-precision and integer inputs, and gradients."""
import numpy
import pytest
import torch

import ember
import ember.vision.ops as E
from tests.vision import tv_oracle

tv = tv_oracle.load()
T = tv.ops

BOX_LOSSES = ["generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss"]


def paired_boxes(n, seed=0):
    rng = numpy.random.default_rng(seed)
    out = []
    for _ in range(2):
        xy = rng.uniform(0, 10, (n, 2))
        wh = rng.uniform(0.5, 6, (n, 2))
        out.append(numpy.concatenate([xy, xy + wh], 1))
    if n > 2:
        out[1][1] = out[0][1]            # identical boxes
        out[1][2] = out[0][2] + 100.0    # disjoint boxes
    return out


def check(ours, theirs, rtol=1e-6):
    assert ours.dtype == getattr(ember, str(theirs.dtype).split(".")[-1])
    assert tuple(ours.shape) == tuple(theirs.shape)
    numpy.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=1e-7,
                                  equal_nan=True)


@pytest.mark.parametrize("name", BOX_LOSSES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("eps", [1e-7, 1e-2])
def test_box_losses_match_torchvision(name, reduction, eps):
    a, b = paired_boxes(6)
    ea, eb = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ours = getattr(E, name)(ea, eb, reduction=reduction, eps=eps)
    theirs = getattr(T, name)(ta, tb, reduction=reduction, eps=eps)
    check(ours, theirs)
    ours.sum().backward()
    theirs.sum().backward()
    numpy.testing.assert_allclose(ea.grad.numpy(), ta.grad.numpy(), rtol=1e-9, atol=1e-12)
    numpy.testing.assert_allclose(eb.grad.numpy(), tb.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", BOX_LOSSES)
@pytest.mark.parametrize("dtype", [numpy.float16, numpy.float32, numpy.int64])
def test_box_losses_upcast_like_torchvision(name, dtype):
    a, b = (x.round().astype(dtype) for x in paired_boxes(5, 1))
    check(getattr(E, name)(ember.tensor(a), ember.tensor(b)), getattr(T, name)(torch.tensor(a), torch.tensor(b)),
          rtol=1e-5)


@pytest.mark.parametrize("name", BOX_LOSSES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_box_losses_of_no_boxes(name, reduction):
    a = numpy.zeros((0, 4))
    ea = ember.tensor(a, requires_grad=True)
    ours = getattr(E, name)(ea, ember.tensor(a), reduction=reduction)
    check(ours, getattr(T, name)(torch.tensor(a), torch.tensor(a), reduction=reduction))
    ours.sum().backward()
    assert ea.grad.shape == (0, 4)


@pytest.mark.parametrize("name", BOX_LOSSES + ["sigmoid_focal_loss"])
def test_reduction_errors(name):
    x = ember.zeros(2, 4)
    with pytest.raises(ValueError, match="Invalid Value for arg 'reduction': 'avg"):
        getattr(E, name)(x, x, reduction="avg")


def test_box_losses_on_batched_shapes():
    a, b = paired_boxes(12, 3)
    for name in BOX_LOSSES:
        check(getattr(E, name)(ember.tensor(a.reshape(3, 4, 4)), ember.tensor(b.reshape(3, 4, 4))),
              getattr(T, name)(torch.tensor(a.reshape(3, 4, 4)), torch.tensor(b.reshape(3, 4, 4))))


@pytest.mark.parametrize("alpha", [0.25, 0.0, 1.0, -1])
@pytest.mark.parametrize("gamma", [0, 2, 1.5])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_sigmoid_focal_loss(alpha, gamma, reduction):
    rng = numpy.random.default_rng(2)
    logits = rng.normal(size=(4, 7)) * 3
    targets = (rng.uniform(size=(4, 7)) > 0.6).astype(numpy.float64)
    targets[0, :3] = [0.3, 0.5, 0.9]  # soft labels
    ex, tx = ember.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    ours = E.sigmoid_focal_loss(ex, ember.tensor(targets), alpha, gamma, reduction)
    theirs = T.sigmoid_focal_loss(tx, torch.tensor(targets), alpha, gamma, reduction)
    check(ours, theirs, rtol=1e-9)
    ours.sum().backward()
    theirs.sum().backward()
    numpy.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-8, atol=1e-12)


def test_sigmoid_focal_loss_errors_and_empty():
    x = ember.zeros(3)
    for alpha in (1.5, -0.5):
        with pytest.raises(ValueError, match=f"Invalid alpha value: {alpha}"):
            E.sigmoid_focal_loss(x, x, alpha=alpha)
    empty = E.sigmoid_focal_loss(ember.zeros(0), ember.zeros(0), reduction="mean")
    assert numpy.isnan(empty.item())  # a plain mean, as torchvision's
