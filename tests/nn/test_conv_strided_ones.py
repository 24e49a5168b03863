"""Unpadded strided 1x1 convolutions with no weight gradient to follow (``conv.SUBSAMPLED_ONES``: ResNet's downsample
branches in an evaluation) run as stride-1 ones of the positions they read: PyTorch's values in float32 and float64
(1-D to 3-D, strides per dim, odd sizes, batch 1, groups, a bias, non-contiguous inputs, a frozen weight with the
input's gradient), the general path's values to float64 round-off with the same bits on 1 and 3 threads."""
import numpy
import pytest
import torch

import ember
from ember.ops import conv
from tests.oracle import assert_fast_path_matches, noncontiguous, sample

F32, F64 = numpy.float32, numpy.float64

CASES = [   # (input shape, weight shape, stride, groups)
    ((32, 64, 8, 8), (128, 64, 1, 1), 2, 1),            # ResNet-18 32x32's first downsample
    ((1, 6, 7, 5), (4, 6, 1, 1), (2, 3), 1),            # batch 1, odd sizes, a stride per dim
    ((3, 4, 9, 9), (6, 2, 1, 1), 3, 2),                 # groups
    ((2, 3, 11), (5, 3, 1), 2, 1),                      # 1-D
    ((2, 3, 5, 4, 6), (2, 3, 1, 1, 1), (2, 1, 3), 1),   # 3-D
]


def _functional(lib, dims):
    return getattr(lib.nn.functional, f"conv{dims}d")


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("x_shape,w_shape,stride,groups", CASES)
def test_matches_torch(x_shape, w_shape, stride, groups, dtype):
    tolerance = 1e-4 if dtype == F32 else 1e-10
    x, w, b = sample(x_shape, dtype, seed=1), sample(w_shape, dtype, seed=2), sample(w_shape[:1], dtype, seed=3)
    dims = len(x_shape) - 2
    for source in (x, noncontiguous(x)):
        for bias in (None, b):
            results = []
            for lib in (ember, torch):
                args = [lib.tensor(a) for a in (w,) + (() if bias is None else (bias,))]
                with lib.no_grad():
                    results.append(_functional(lib, dims)(lib.tensor(source), *args, stride=stride,
                                                          groups=groups).numpy())
            got, want = results
            assert got.dtype == want.dtype and got.shape == want.shape
            numpy.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)


def test_a_frozen_weight_and_the_input_gradient():
    x, w = sample((4, 6, 9, 7), F64, seed=4), sample((5, 6, 1, 1), F64, seed=5)
    results = []
    for lib in (ember, torch):
        xt = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.conv2d(xt, lib.tensor(w), stride=2)
        y.backward(lib.tensor(numpy.cos(numpy.arange(y.numel())).reshape(tuple(y.shape))))
        results.append((y.detach().numpy(), xt.grad.numpy()))
    for got, want in zip(*results):
        numpy.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("x_shape,w_shape,stride,groups", CASES[:3])
def test_matches_the_general_path(x_shape, w_shape, stride, groups, threads, monkeypatch):
    monkeypatch.setattr(ember.ops._parallel, "MIN_ELEMENTS", 64)
    x, w = sample(x_shape, F64, seed=6), sample(w_shape, F64, seed=7)
    taken = []
    subsampled = conv._conv

    def counting(xp, x, w, stride, padding, *args, **kwargs):
        taken.append(conv.SUBSAMPLED_ONES)
        return subsampled(xp, x, w, stride, padding, *args, **kwargs)
    monkeypatch.setattr(conv, "_conv", counting)

    def run(fast):
        monkeypatch.setattr(conv, "SUBSAMPLED_ONES", fast)
        with ember.no_grad():
            return [ember.nn.functional.conv2d(ember.tensor(x), ember.tensor(w), stride=stride, groups=groups).numpy()]
    assert_fast_path_matches(run, threads, {}, {})
    assert taken == [True, True, False]


def test_padded_or_recorded_ones_keep_their_path(monkeypatch):
    """Padding (the subsample would read padded positions) or a weight gradient to follow: the general path, whose
    values these still are."""
    seen = []
    original = conv._conv_pointwise.forward
    monkeypatch.setattr(conv._conv_pointwise, "forward", lambda *a: seen.append(1) or original(*a))
    x, w = sample((2, 4, 16, 16), F64, seed=8), sample((3, 4, 1, 1), F64, seed=9)
    results = []
    for lib in (ember, torch):
        with lib.no_grad():
            padded = lib.nn.functional.conv2d(lib.tensor(x), lib.tensor(w), stride=2, padding=1).numpy()
        wt = lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.conv2d(lib.tensor(x), wt, stride=2)
        y.sum().backward()
        results.append((padded, y.detach().numpy(), wt.grad.numpy()))
    assert seen == []
    for got, want in zip(*results):
        numpy.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
