"""Winograd forwards over small maps with exact tiles (``_conv_winograd_tiles``), taken where no weight gradient
follows: values against PyTorch in float32 and float64 (odd sizes, padding 0-2, batch 1, non-contiguous operands, a
bias, the layers it was measured on), against the columns' path to float64 round-off with the same bits on 1 and 3
threads, the input gradient when only the input records one, and the convolutions that keep other paths (an empty
batch, a weight that records a gradient, non-finite operands, few channels or tiles, strides, wider maps)."""
import numpy
import pytest
import torch

import ember
from ember.ops import _conv_winograd_tiles
from tests.oracle import assert_fast_path_matches, count_calls, noncontiguous, sample

F32, F64 = numpy.float32, numpy.float64


@pytest.fixture
def calls(monkeypatch):
    return count_calls(monkeypatch, _conv_winograd_tiles, ("forward",))


@pytest.fixture
def small(monkeypatch):
    """Thresholds lowered so that small shapes take the tiles."""
    monkeypatch.setattr(_conv_winograd_tiles, "MIN_CHANNELS", 1)
    monkeypatch.setattr(_conv_winograd_tiles, "MIN_TILES", 1)
    monkeypatch.setattr(_conv_winograd_tiles, "MIN_COVER", 0)


def _conv(lib, x, w, bias=None, **options):
    with lib.no_grad():
        args = [lib.tensor(a) for a in (x, w) + (() if bias is None else (bias,))]
        return lib.nn.functional.conv2d(*args, **options).numpy()


CASES = [   # (input shape, weight shape, padding)
    ((3, 5, 8, 8), (6, 5, 3, 3), 1),      # even map: exact tiles
    ((2, 4, 7, 5), (3, 4, 3, 3), 1),      # odd maps: the last tiles hang over the output's edge
    ((1, 6, 9, 6), (4, 6, 3, 3), 0),      # batch 1, no padding
    ((2, 3, 4, 3), (5, 3, 3, 3), 2),      # padding past the kernel's reach
    ((2, 2, 1, 1), (3, 2, 3, 3), 1),      # a 1x1 map: one tile
    ((5, 3, 2, 9), (2, 3, 3, 3), (1, 0)),
]


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("x_shape,w_shape,padding", CASES)
def test_matches_torch(x_shape, w_shape, padding, dtype, small, calls):
    tolerance = 1e-4 if dtype == F32 else 1e-10
    x, w, b = sample(x_shape, dtype, seed=1), sample(w_shape, dtype, seed=2) / 3, sample(w_shape[:1], dtype, seed=3)
    for bias in (None, b):
        for source, weight in ((x, w), (noncontiguous(x), noncontiguous(w))):
            got, want = (_conv(lib, source, weight, bias, padding=padding) for lib in (ember, torch))
            assert got.dtype == want.dtype and got.shape == want.shape
            numpy.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)
    assert calls == {"forward": 4}


@pytest.mark.parametrize("shape", [(32, 64, 64, 8), (32, 128, 128, 4), (32, 128, 256, 8), (32, 64, 128, 16)],
                         ids=["resnet-8x8", "resnet-4x4", "vgg-8x8", "vgg-16x16"])
def test_measured_layers(shape, calls):
    """The layers it was measured on, at the default thresholds."""
    N, C, outputs, S = shape
    x, w = sample((N, C, S, S), F32, seed=4), sample((outputs, C, 3, 3), F32, seed=5) / (3 * C)
    got, want = (_conv(lib, x, w, padding=1) for lib in (ember, torch))
    numpy.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    assert calls == {"forward": 1}


@pytest.mark.parametrize("threads", [1, 3])
def test_matches_the_columns_path(threads, small, calls, monkeypatch):
    """The columns' values to float64 round-off, and the same bits on any number of threads (the passes in parts of
    the batch, the products cut on the pool)."""
    monkeypatch.setattr(ember.ops._parallel, "MIN_ELEMENTS", 64)
    monkeypatch.setattr(ember.ops._blas, "SPLIT_WORK", 1 << 10)
    x, w, b = sample((13, 5, 9, 8), F64, seed=6), sample((7, 5, 3, 3), F64, seed=7), sample((7,), F64, seed=8)

    def run(tiles):
        monkeypatch.setattr(_conv_winograd_tiles, "MIN_CHANNELS", 1 if tiles else 10 ** 9)
        return [_conv(ember, x, w, b, padding=1)]
    assert_fast_path_matches(run, threads, calls, {"forward": 1})


def test_input_gradient_only(small, calls):
    """A frozen weight (no weight gradient wanted): the forward takes the tiles, the input gradient its own path."""
    x, w = sample((3, 4, 6, 6), F64, seed=9), sample((5, 4, 3, 3), F64, seed=10)
    grads = []
    for lib in (ember, torch):
        xt = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.conv2d(xt, lib.tensor(w), padding=1)
        y.backward(lib.tensor(numpy.cos(numpy.arange(y.numel())).reshape(tuple(y.shape))))
        grads.append((y.detach().numpy(), xt.grad.numpy()))
    for got, want in zip(*grads):
        numpy.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    assert calls == {"forward": 1}


def test_other_paths(small, calls):
    """An empty batch, a weight recording a gradient, and non-finite operands keep the other paths (PyTorch's
    values: a NaN or infinity reaches only the outputs whose windows hold it)."""
    w = sample((3, 2, 3, 3), F32, seed=11)
    empty = numpy.zeros((0, 2, 5, 5), F32)
    numpy.testing.assert_array_equal(_conv(ember, empty, w, padding=1), _conv(torch, empty, w, padding=1))
    x = sample((2, 2, 6, 6), F32, seed=12)
    wt = ember.tensor(w, requires_grad=True)
    ember.nn.functional.conv2d(ember.tensor(x), wt, padding=1).sum().backward()
    x[1, 0, 2, 3], x[0, 1, 5, 5] = numpy.nan, numpy.inf
    got, want = (_conv(lib, x, w, padding=1) for lib in (ember, torch))
    numpy.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)   # NaN where PyTorch's are
    assert calls == {}


@pytest.mark.parametrize("weight_shape,input_shape,options", [
    ((64, 64, 3, 3), (32, 64, 8, 8), {"stride": (2, 1)}),
    ((64, 64, 3, 3), (32, 64, 8, 8), {"dilation": (2, 2)}),
    ((64, 32, 3, 3), (32, 64, 8, 8), {"groups": 2}),
    ((64, 64, 3, 5), (32, 64, 8, 8), {}),
    ((32, 64, 3, 3), (32, 64, 8, 8), {}),       # few output channels
    ((256, 256, 3, 3), (8, 256, 2, 2), {}),     # few tiles
    ((64, 64, 3, 3), (8, 64, 18, 18), {}),      # a wider map
    ((64, 64, 3, 3), (32, 64, 7, 7), {}),       # 49 of the tiles' 64 outputs
])
def test_applies(weight_shape, input_shape, options):
    assert _conv_winograd_tiles.applies(numpy, (64, 64, 3, 3), (1, 1), (1, 1), (1, 1), 1, (32, 64, 8, 8), F32)
    assert not _conv_winograd_tiles.applies(numpy, weight_shape, options.get("stride", (1, 1)), (1, 1),
                                            options.get("dilation", (1, 1)), options.get("groups", 1), input_shape,
                                            F32)
    assert not _conv_winograd_tiles.applies(numpy, (64, 64, 3, 3), (1, 1), (1, 1), (1, 1), 1, (32, 64, 8, 8),
                                            numpy.float16)
