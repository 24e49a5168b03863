"""3x3 stride-1 convolutions of 64 to 127 channels over maps of 24x24 and more, with no weight gradient to follow
(ResNet-18-224's first stage in an evaluation), run by Winograd's F(2x2, 3x3) (``_conv_winograd.FORWARD_MIN_CHANNELS``):
PyTorch's values in float32 and float64 (odd and rectangular maps, padding 0 to 2, batch 1, a bias, non-contiguous
inputs, a frozen weight with the input's gradient, non-finite inputs), the general path's values to float64 round-off
with the same bits on 1 and 3 threads; strided, dilated, grouped, thinner, smaller or recorded ones keep their path."""
import numpy
import pytest
import torch

import ember
from ember.ops import _conv_winograd, conv
from tests.oracle import assert_fast_path_matches, noncontiguous, sample

F32, F64 = numpy.float32, numpy.float64

CASES = [   # (input shape, weight shape, padding)
    ((2, 64, 24, 24), (64, 64, 3, 3), 1),        # the smallest map and channels taken
    ((1, 72, 25, 31), (64, 72, 3, 3), (1, 2)),   # batch 1, odd and rectangular maps, padding per dim
    ((2, 64, 27, 26), (96, 64, 3, 3), 0),        # unpadded: a 25x24 output
]


@pytest.fixture
def forwards(monkeypatch):
    """The calls of Winograd's forward."""
    seen = []
    original = _conv_winograd.forward
    monkeypatch.setattr(_conv_winograd, "forward", lambda *a: seen.append(a[1].shape) or original(*a))
    return seen


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("x_shape,w_shape,padding", CASES)
def test_matches_torch(x_shape, w_shape, padding, dtype, forwards):
    tolerance = 2e-4 if dtype == F32 else 1e-10
    x, w, b = sample(x_shape, dtype, seed=1), sample(w_shape, dtype, seed=2), sample(w_shape[:1], dtype, seed=3)
    for source in (x, noncontiguous(x)):
        for bias in (None, b):
            results = []
            for lib in (ember, torch):
                args = [lib.tensor(a) for a in (w,) + (() if bias is None else (bias,))]
                with lib.no_grad():
                    results.append(lib.nn.functional.conv2d(lib.tensor(source), *args, padding=padding).numpy())
            got, want = results
            assert got.dtype == want.dtype and got.shape == want.shape
            numpy.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)
    assert len(forwards) == 4


def test_a_frozen_weight_and_the_input_gradient(forwards):
    x, w = sample((2, 64, 24, 26), F64, seed=4), sample((64, 64, 3, 3), F64, seed=5)
    results = []
    for lib in (ember, torch):
        xt = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.conv2d(xt, lib.tensor(w), padding=1)
        y.backward(lib.tensor(numpy.cos(numpy.arange(y.numel())).reshape(tuple(y.shape))))
        results.append((y.detach().numpy(), xt.grad.numpy()))
    assert len(forwards) == 1
    for got, want in zip(*results):
        numpy.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_non_finite_inputs_take_the_columns(forwards):
    """An infinity or NaN would reach every output of its tile through the transforms: the columns' path gives the
    outputs PyTorch's gives."""
    x, w = sample((1, 64, 24, 24), F64, seed=6), sample((64, 64, 3, 3), F64, seed=7)
    x[0, 3, 5, 7], x[0, 9, 20, 2] = numpy.inf, numpy.nan
    results = []
    for lib in (ember, torch):
        with lib.no_grad():
            results.append(lib.nn.functional.conv2d(lib.tensor(x), lib.tensor(w), padding=1).numpy())
    assert forwards == []
    numpy.testing.assert_allclose(*results, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("x_shape,w_shape,padding", CASES[:2])
def test_matches_the_general_path(x_shape, w_shape, padding, threads, monkeypatch, forwards):
    monkeypatch.setattr(ember.ops._parallel, "MIN_ELEMENTS", 64)
    x, w = sample(x_shape, F64, seed=8), sample(w_shape, F64, seed=9)

    def run(fast):
        monkeypatch.setattr(_conv_winograd, "FORWARD_MIN_CHANNELS", 64 if fast else 10 ** 9)
        with ember.no_grad():
            return [ember.nn.functional.conv2d(ember.tensor(x), ember.tensor(w), padding=padding).numpy()]
    assert_fast_path_matches(run, threads, {}, {})
    assert len(forwards) == 2


@pytest.mark.parametrize("x_shape,w_shape,options", [
    ((2, 64, 25, 25), (64, 64, 3, 3), {"stride": 2, "padding": 1}),
    ((2, 64, 28, 28), (64, 64, 3, 3), {"dilation": 2, "padding": 2}),
    ((2, 64, 24, 24), (64, 32, 3, 3), {"groups": 2, "padding": 1}),
    ((2, 63, 24, 24), (64, 63, 3, 3), {"padding": 1}),    # thinner
    ((2, 64, 23, 25), (64, 64, 3, 3), {"padding": 1}),    # a 23-row map
    ((0, 64, 24, 24), (64, 64, 3, 3), {"padding": 1}),    # an empty batch
])
def test_other_convolutions_keep_their_path(x_shape, w_shape, options, forwards):
    x, w = sample(x_shape, F32, seed=10), sample(w_shape, F32, seed=11)
    results = []
    for lib in (ember, torch):
        with lib.no_grad():
            results.append(lib.nn.functional.conv2d(lib.tensor(x), lib.tensor(w), **options).numpy())
    assert forwards == []
    assert results[0].shape == results[1].shape
    numpy.testing.assert_allclose(*results, rtol=2e-4, atol=2e-4)


def test_a_weight_gradient_keeps_the_columns(forwards):
    x, w = sample((2, 64, 24, 24), F64, seed=12), sample((64, 64, 3, 3), F64, seed=13)
    results = []
    for lib in (ember, torch):
        wt = lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.conv2d(lib.tensor(x), wt, padding=1)
        y.backward(lib.tensor(numpy.sin(numpy.arange(y.numel())).reshape(tuple(y.shape))))
        results.append((y.detach().numpy(), wt.grad.numpy()))
    assert forwards == [] and not conv._conv_winograd.applies(
        numpy, w.shape, (1, 1), (1, 1), (1, 1), 1, x.shape, x.dtype)
    for got, want in zip(*results):
        numpy.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
