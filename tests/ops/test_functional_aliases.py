"""The neural-network functions PyTorch exposes at the top level beside ``nn.functional`` (``torch.conv2d``,
``torch.dropout``, ``torch.batch_norm``, ...), called with those entry points' own signatures, against torch."""
import numpy
import pytest
import torch

import ember
from tests.oracle import check, check_error, sample

TOP_LEVEL = sorted(n for n in dir(torch.nn.functional) if not n.startswith("_") and callable(getattr(torch, n, None))
                   and not isinstance(getattr(torch, n), type))

x4 = sample((2, 4, 5, 5))
x3 = sample((2, 4, 7))
x5 = sample((1, 2, 4, 4, 4))
prob = sample((3, 4), low=0, high=1)
target = (sample((3, 4), low=0, high=1) > 0.5).astype(numpy.float32)
sign = numpy.sign(sample((3,))).astype(numpy.float32)
w4 = sample((3, 4, 3, 3))
bias3 = sample((3,))
ind = numpy.array([1, 2, 4, 5, 4, 3, 2, 9])
off = numpy.array([0, 3, 5])

CALLS = {
    "adaptive_avg_pool1d": (lambda lib, x: lib.adaptive_avg_pool1d(x, 3), x3),
    "adaptive_max_pool1d": (lambda lib, x: lib.adaptive_max_pool1d(x, 3), x3),
    "alpha_dropout": (lambda lib, x: lib.alpha_dropout(x, 0.3, False), x3),
    "avg_pool1d": (lambda lib, x: lib.avg_pool1d(x, 3, 2, 1, True, False), x3),
    "batch_norm": (lambda lib, x, w, b: lib.batch_norm(x, w, b, lib.tensor([0.1, 0.2, -0.3, 0.0]),
                                                       lib.tensor([1.0, 0.5, 2.0, 1.5]), False, 0.1, 1e-5, False),
                   x4, sample((4,)), sample((4,))),
    "bilinear": (lambda lib, a, b, w, c: lib.bilinear(a, b, w, c), sample((3, 2)), sample((3, 4)), sample((5, 2, 4)),
                 sample((5,))),
    "binary_cross_entropy_with_logits": (lambda lib, x, t: lib.binary_cross_entropy_with_logits(
        x, t, None, lib.tensor([0.5, 1.0, 2.0, 1.5]), 2), sample((3, 4)), target),
    "celu": (lambda lib, x: lib.celu(x, 0.7), x3),
    "celu_": (lambda lib, x: lib.celu_(x.clone(), 0.7), x3),
    "channel_shuffle": (lambda lib, x: lib.channel_shuffle(x, 2), x4),
    "conv1d": (lambda lib, x, w: lib.conv1d(x, w, None, 2, 1), x3, sample((3, 4, 3))),
    "conv2d": (lambda lib, x, w, b: lib.conv2d(x, w, b, 1, 1, 1, 1), x4, w4, bias3),
    "conv3d": (lambda lib, x, w: lib.conv3d(x, w, None, 1, "same"), x5, sample((3, 2, 3, 3, 3))),
    "conv_tbc": (lambda lib, x, w, b: lib.conv_tbc(x, w, b, 1), sample((7, 2, 4)), sample((3, 4, 5)), sample((5,))),
    "conv_transpose1d": (lambda lib, x, w: lib.conv_transpose1d(x, w, None, 2, 1, 1), x3, sample((4, 3, 3))),
    "conv_transpose2d": (lambda lib, x, w: lib.conv_transpose2d(x, w, None, 2), x4, sample((4, 3, 2, 2))),
    "conv_transpose3d": (lambda lib, x, w: lib.conv_transpose3d(x, w), x5, sample((2, 3, 2, 2, 2))),
    "cosine_embedding_loss": (lambda lib, a, b, t: lib.cosine_embedding_loss(a, b, t, 0.1, 0),
                              sample((3, 4)), sample((3, 4)), sign),
    "cosine_similarity": (lambda lib, a, b: lib.cosine_similarity(a, b, 0), sample((3, 4)), sample((3, 4))),
    "ctc_loss": (lambda lib, lp: lib.ctc_loss(lp.log_softmax(2), lib.tensor([[1, 2], [2, 2]]), [5, 4], [2, 1], 0, 2),
                 sample((5, 2, 3))),
    "dropout": (lambda lib, x: lib.dropout(x, 0.5, False), x3),
    "embedding": (lambda lib, w, i: lib.embedding(w, i, 2), sample((10, 3)), ind),
    "embedding_bag": (lambda lib, w, i, o: lib.embedding_bag(w, i, o, False, 1)[:3], sample((10, 3)), ind, off),
    "feature_alpha_dropout": (lambda lib, x: lib.feature_alpha_dropout(x, 0.5, False), x4),
    "group_norm": (lambda lib, x, w: lib.group_norm(x, 2, w, None, 1e-3), x4, sample((4,))),
    "hardshrink": (lambda lib, x: lib.hardshrink(x, 1.0), x3),
    "hinge_embedding_loss": (lambda lib, x, t: lib.hinge_embedding_loss(x, t, 0.5, 2), sample((3,)), sign),
    "instance_norm": (lambda lib, x: lib.instance_norm(x, None, None, None, None, True, 0.1, 1e-5, False), x4),
    "kl_div": (lambda lib, x, t: lib.kl_div(x, t, 2, log_target=False), prob.clip(0.1, 1), prob),
    "layer_norm": (lambda lib, x, w, b: lib.layer_norm(x, (7,), w, b, 1e-3), x3, sample((7,)), sample((7,))),
    "log_softmax": (lambda lib, x: lib.log_softmax(x, 1, lib.float64), x3),
    "margin_ranking_loss": (lambda lib, a, b, t: lib.margin_ranking_loss(a, b, t, 0.2, 0), sample((3,)),
                            sample((3,)), sign),
    "max_pool1d": (lambda lib, x: lib.max_pool1d(x, 2), x3),
    "max_pool1d_with_indices": (lambda lib, x: lib.max_pool1d_with_indices(x, 3, 2, 1), x3),
    "max_pool2d": (lambda lib, x: lib.max_pool2d(x, 2, padding=1, ceil_mode=True), x4),
    "max_pool3d": (lambda lib, x: lib.max_pool3d(x, 2, 1), x5),
    "native_channel_shuffle": (lambda lib, x: lib.native_channel_shuffle(x, 2), x4),
    "pairwise_distance": (lambda lib, a, b: lib.pairwise_distance(a, b, 1.0, 1e-6, True), sample((3, 4)),
                          sample((3, 4))),
    "pdist": (lambda lib, x: lib.pdist(x, 3.0), sample((4, 3))),
    "poisson_nll_loss": (lambda lib, x, t: lib.poisson_nll_loss(x, t, True, True, 1e-8, 1), sample((3, 4)),
                         prob * 3),
    "pixel_shuffle": (lambda lib, x: lib.pixel_shuffle(x, 2), x4),
    "pixel_unshuffle": (lambda lib, x: lib.pixel_unshuffle(x, 5), x4),
    "relu": (lambda lib, x: lib.relu(x), x3),
    "relu_": (lambda lib, x: lib.relu_(x.clone()), x3),
    "sigmoid": (lambda lib, x: lib.sigmoid(x), x3),
    "tanh": (lambda lib, x: lib.tanh(x), x3),
    "prelu": (lambda lib, x, w: lib.prelu(x, w), x3, sample((4,))),
    "rms_norm": (lambda lib, x, w: lib.rms_norm(x, [7], w, 1e-6), x3, sample((7,))),
    "rrelu": (lambda lib, x: lib.rrelu(x, 0.1, 0.3), x3),
    "rrelu_": (lambda lib, x: lib.rrelu_(x.clone(), 0.1, 0.3), x3),
    "selu": (lambda lib, x: lib.selu(x), x3),
    "selu_": (lambda lib, x: lib.selu_(x.clone()), x3),
    "softmax": (lambda lib, x: lib.softmax(x, dim=-1), x3),
    "threshold": (lambda lib, x: lib.threshold(x, 0.5, -2.0), x3),
    "threshold_": (lambda lib, x: lib.threshold_(x.clone(), 0.5, -2.0), x3),
    "triplet_margin_loss": (lambda lib, a, p, n: lib.triplet_margin_loss(a, p, n, 0.5, 1.0, 1e-6, True, 2),
                            sample((3, 4)), sample((3, 4), seed=1), sample((3, 4), seed=2)),
}


def test_every_top_level_functional_name_has_a_case():
    assert len(TOP_LEVEL) >= 55 and sorted(CALLS) == TOP_LEVEL


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_top_level_function_matches_torch(name):
    assert callable(getattr(ember, name, None)), f"ember.{name} is missing"
    call, *args = CALLS[name]
    check(call, *args, atol=1e-5, grad=name != "native_channel_shuffle")  # torch has no derivative for it


def test_embedding_bag_aux_outputs_and_modes():
    for mode in (0, 1, 2):
        check(lambda lib, w, i, o: lib.embedding_bag(w, i, o, False, mode), sample((10, 3)), ind, off, grad=mode != 2)
    check(lambda lib, w, i, o: lib.embedding_bag(w, i, o, False, 1, False, None, True), sample((10, 3)), ind,
          numpy.array([0, 3, 5, 8]))


def test_training_dropout_and_integer_reductions():
    x = ember.ones(1000)
    kept = ember.dropout(x, 0.25, True)
    assert numpy.isclose(kept.numpy(), 0).sum() + numpy.isclose(kept.numpy(), 4 / 3).sum() == 1000
    assert 600 < int((kept != 0).sum()) < 900
    check(lambda lib, a, b: lib.hinge_embedding_loss(a, b, 1.0, 3), sample((3,)), sign)
    check_error(lambda lib, x: lib.dropout(x, 0.5), x3)
