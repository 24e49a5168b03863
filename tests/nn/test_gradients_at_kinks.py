"""Gradients where a function has a kink or a removable singularity, against PyTorch's: the activations' corners,
the logit losses at a logit of 0, a zero vector's cosine similarity and atan2 at the origin (each of these gave
another value, or NaN, before)."""
import numpy
import pytest
import torch

import ember

POINTS = [-6.0, -3.0, -1.0, 0.0, 0.5, 1.0, 3.0, 6.0]


def gradients(lib, function, points, dtype):
    x = lib.tensor(points, dtype=getattr(lib, dtype), requires_grad=True)
    function(lib, x).sum().backward()
    return x.grad.numpy()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,function", [
    ("hardswish", lambda lib, x: lib.nn.functional.hardswish(x)),
    ("hardsigmoid", lambda lib, x: lib.nn.functional.hardsigmoid(x)),
    ("rrelu (evaluation)", lambda lib, x: lib.nn.functional.rrelu(x, training=False)),
    ("bce with logits", lambda lib, x: lib.nn.functional.binary_cross_entropy_with_logits(
        x, lib.full_like(x, 0.3), reduction="none")),
    ("logsigmoid", lambda lib, x: lib.nn.functional.logsigmoid(x)),
    ("atan2 at the origin", lambda lib, x: lib.atan2(x * 0, x * 0) + lib.atan2(x, lib.zeros_like(x))),
    ("cosine similarity of a zero vector", lambda lib, x: lib.nn.functional.cosine_similarity(
        (x * 0).view(1, -1), lib.ones(1, len(POINTS), dtype=x.dtype)) + lib.nn.functional.cosine_similarity(
        x.view(1, -1) * 0 + lib.arange(len(POINTS), dtype=x.dtype), x.view(1, -1))),
])
def test_gradient_at_kinks_matches_torch(name, function, dtype):
    ours, theirs = gradients(ember, function, POINTS, dtype), gradients(torch, function, POINTS, dtype)
    # PyTorch's hardsigmoid gradient is float32's 1/6 in every dtype; a float64 1/6 differs by 3e-8 relative
    numpy.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7, err_msg=name)


def test_cosine_similarity_of_a_zero_vector_has_torchs_finite_gradient():
    grads = []
    for lib in (ember, torch):
        x = lib.zeros(2, 3, dtype=lib.float64, requires_grad=True)
        lib.nn.functional.cosine_similarity(x, lib.tensor([[1.0, 2.0, 2.0]], dtype=lib.float64)).sum().backward()
        grads.append(x.grad.numpy())
    assert numpy.isfinite(grads[0]).all()
    numpy.testing.assert_allclose(*grads, rtol=1e-12)


def test_cosine_similarity_broadcasts_like_torch():
    a, b = numpy.random.default_rng(0).random((4, 1, 3)), numpy.random.default_rng(1).random((5, 3))
    ours = ember.nn.functional.cosine_similarity(ember.tensor(a), ember.tensor(b), dim=-1)
    theirs = torch.nn.functional.cosine_similarity(torch.tensor(a), torch.tensor(b), dim=-1)
    assert tuple(ours.shape) == tuple(theirs.shape) == (4, 5)
    numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-14)


@pytest.mark.parametrize("name,function", [
    ("multi_margin_loss", lambda lib, x: lib.nn.functional.multi_margin_loss(x, lib.tensor([0, 1]), reduction="sum")),
    ("multilabel_margin_loss", lambda lib, x: lib.nn.functional.multilabel_margin_loss(
        x, lib.tensor([[0, -1, 1], [1, -1, 0]]), reduction="sum")),
    ("norm p = 0.5", lambda lib, x: x.norm(0.5, dim=1).sum()),
    ("linalg.vector_norm ord = 0.5", lambda lib, x: lib.linalg.vector_norm(x, 0.5, dim=1).sum()),
])
def test_margins_of_exactly_zero_and_small_p_norms_of_zeros_match_torch(name, function):
    """A hinge exactly at its margin takes no gradient in PyTorch's kernels; a p < 1 norm's zero entries get 0."""
    values = [[0.0, 0.0, 0.0], [1.0, 0.0, -1.0]]
    grads = []
    for lib in (ember, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        function(lib, x).backward()
        grads.append(x.grad.numpy())
    numpy.testing.assert_allclose(*grads, rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("norm_type", [2.0, 3.0, 1.5])
def test_lp_pool_of_an_all_zero_window_has_torchs_zero_gradient(norm_type):
    values = numpy.array([[[0.0, 0.0, 1.0, -2.0, 0.0, 0.0, 0.5, 0.5]]])
    grads = []
    for lib in (ember, torch):
        x = lib.tensor(values, requires_grad=True)
        out = lib.nn.functional.lp_pool1d(x, norm_type, 2)
        (out * lib.arange(1.0, 5.0, dtype=lib.float64)).sum().backward()
        grads.append((out.detach().numpy(), x.grad.numpy()))
    for a, b in zip(*grads):
        numpy.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True)
