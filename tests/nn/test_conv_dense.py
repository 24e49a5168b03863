"""Forwards over tiny maps by the convolution's dense matrix (``_conv_dense``: ResNet-18's and VGG's 2x2 maps in an
evaluation): which convolutions take it, PyTorch's values in float32 and float64 (1-D to 3-D, stride, padding,
dilation, a bias, odd maps, non-contiguous inputs, the matrix rebuilt after the weight changes in place), the columns'
values to float64 round-off with the same bits on 1 and 3 threads, a frozen weight with the input's gradient, and
non-finite operands or a weight gradient on the columns' path."""
import numpy
import pytest
import torch

import ember
from ember.ops import _conv_dense, conv
from tests.oracle import assert_fast_path_matches, count_calls, noncontiguous, sample

F32, F64 = numpy.float32, numpy.float64


def _live(x_shape, w_shape, stride, padding, dilation):
    size, kernel = x_shape[2:], w_shape[2:]
    out = [(s + 2 * p - d * (k - 1) - 1) // t + 1 for s, p, d, k, t in zip(size, padding, dilation, kernel, stride)]
    return conv._live_offsets(kernel, stride, dilation, out, padding, size), out


@pytest.mark.parametrize("x_shape,w_shape,stride,padding,groups,taken", [
    ((32, 256, 2, 2), (256, 256, 3, 3), 1, 1, 1, True),     # ResNet-18 32x32's 2x2 stage: 4 positions, 9 offsets
    ((32, 256, 2, 2), (512, 256, 3, 3), 2, 1, 1, True),     # its strided 1x1-map one: 4 positions, 4 offsets
    ((16, 8, 3, 3), (4, 8, 3, 3), 1, 1, 1, False),          # 9 positions and offsets, but 81 entries a pair
    ((32, 128, 4, 4), (128, 128, 3, 3), 1, 1, 1, False),    # 16 positions
    ((32, 512, 1, 1), (512, 512, 3, 3), 1, 1, 1, False),    # one position: the centre tap's gather
    ((15, 256, 2, 2), (256, 256, 3, 3), 1, 1, 1, False),    # under MIN_BATCH
    ((32, 8, 2, 2), (8, 4, 3, 3), 1, 1, 2, False),          # groups
])
def test_which_convolutions_take_it(x_shape, w_shape, stride, padding, groups, taken):
    live, out = _live(x_shape, w_shape, (stride,) * 2, (padding,) * 2, (1, 1))
    assert _conv_dense.applies(numpy, w_shape, groups, x_shape, F32, live, out) is taken


CASES = [   # (input shape, weight shape, options)
    ((16, 6, 2, 2), (5, 6, 3, 3), {"padding": 1}),
    ((16, 3, 2, 1), (4, 3, 3, 3), {"padding": (1, 2), "stride": (2, 1)}),       # odd maps, a stride and padding per dim
    ((17, 4, 2, 2), (3, 4, 2, 2), {"padding": 1, "dilation": 2}),
    ((16, 3, 3), (4, 3, 3), {"padding": 1}),                                     # 1-D
    ((16, 2, 2, 2, 1), (3, 2, 3, 3, 3), {"padding": 1}),                         # 3-D
]


def _conv(lib, x, w, bias=None, **options):
    with lib.no_grad():
        args = [lib.tensor(a) for a in (x, w) + (() if bias is None else (bias,))]
        return getattr(lib.nn.functional, f"conv{x.ndim - 2}d")(*args, **options).numpy()


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("x_shape,w_shape,options", CASES)
def test_matches_torch(x_shape, w_shape, options, dtype, monkeypatch):
    calls = count_calls(monkeypatch, _conv_dense, ("forward",))
    tolerance = 1e-5 if dtype == F32 else 1e-12
    x, w, b = sample(x_shape, dtype, seed=1), sample(w_shape, dtype, seed=2) / 3, sample(w_shape[:1], dtype, seed=3)
    for source in (x, noncontiguous(x)):
        for bias in (None, b):
            got, want = (_conv(lib, source, w, bias, **options) for lib in (ember, torch))
            assert got.dtype == want.dtype and got.shape == want.shape
            numpy.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)
    assert calls == {"forward": 4}


def test_a_weight_changed_in_place_rebuilds_the_matrix():
    x, w = sample((16, 6, 2, 2), F64, seed=4), sample((5, 6, 3, 3), F64, seed=5)
    weights = [lib.tensor(w) for lib in (ember, torch)]
    for step in range(3):
        got, want = (lib.nn.functional.conv2d(lib.tensor(x), weight, padding=1).numpy()
                     for lib, weight in zip((ember, torch), weights))
        numpy.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        for weight in weights:
            weight.numpy()[step, 1, 2, 0] = 7.0 - step   # through the shared memory: no version counter sees it


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("x_shape,w_shape,options", CASES[:3] + [((32, 256, 2, 2), (256, 256, 3, 3), {"padding": 1})])
def test_matches_the_columns(x_shape, w_shape, options, threads, monkeypatch):
    """The last case's product is cut into parts on the pool (``_blas.SPLIT_WORK``), each by OpenBLAS's packed kernel."""
    monkeypatch.setattr(ember.ops._parallel, "MIN_ELEMENTS", 64)
    x, w = sample(x_shape, F64, seed=6), sample(w_shape, F64, seed=7) / 30
    calls = count_calls(monkeypatch, _conv_dense, ("forward",))

    def run(fast):
        monkeypatch.setattr(_conv_dense, "MIN_BATCH", 16 if fast else 10 ** 9)
        return [_conv(ember, x, w, **options)]
    assert_fast_path_matches(run, threads, calls, {"forward": 1})


@pytest.mark.parametrize("where", ["input", "weight"])
def test_non_finite_operands_take_the_columns(where):
    """An infinity times the matrix's zeros would put NaNs where its window does not reach: PyTorch's values."""
    x, w = sample((16, 6, 2, 2), F64, seed=8), sample((5, 6, 3, 3), F64, seed=9)
    if where == "input":
        x[3, 2, 0, 1], x[7, 0, 1, 1] = numpy.inf, numpy.nan
    else:
        w[1, 2, 0, 0] = -numpy.inf
    got, want = (_conv(lib, x, w, padding=1) for lib in (ember, torch))
    numpy.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)   # NaNs and infinities in the same places


def test_a_weight_gradient_keeps_the_columns(monkeypatch):
    calls = count_calls(monkeypatch, _conv_dense, ("forward",))
    x, w = sample((16, 6, 2, 2), F64, seed=10), sample((5, 6, 3, 3), F64, seed=11)
    results = []
    for lib in (ember, torch):
        wt = lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.conv2d(lib.tensor(x), wt, padding=1)
        y.backward(lib.tensor(numpy.cos(numpy.arange(y.numel())).reshape(tuple(y.shape))))
        results.append((y.detach().numpy(), wt.grad.numpy()))
    assert calls == {}
    for got, want in zip(*results):
        numpy.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_a_frozen_weight_and_the_input_gradient(monkeypatch):
    calls = count_calls(monkeypatch, _conv_dense, ("forward",))
    x, w = sample((16, 6, 2, 2), F64, seed=12), sample((5, 6, 3, 3), F64, seed=13)
    results = []
    for lib in (ember, torch):
        xt = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.conv2d(xt, lib.tensor(w), padding=1)
        y.backward(lib.tensor(numpy.sin(numpy.arange(y.numel())).reshape(tuple(y.shape))))
        results.append((y.detach().numpy(), xt.grad.numpy()))
    assert calls == {"forward": 1}
    for got, want in zip(*results):
        numpy.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
