"""Each convolution algorithm (banded depthwise, per-offset depthwise, ...) against PyTorch and against the others:
values and gradients in float32 and float64 over strides, padding, dilation, depth multipliers and edge shapes."""
import math

import numpy
import pytest
import torch

import ember
from ember.ops import _conv_channels_last, _conv_depthwise, _conv_pointwise, _conv_winograd, conv
from tests.oracle import check, check_conv, gradcheck, sample

F32, F64 = numpy.float32, numpy.float64

DEPTHWISE_CASES = [   # (function, input shape, weight shape, options)
    ("conv2d", (3, 6, 7, 5), (6, 1, 3, 3), {"groups": 6, "padding": 1}),
    ("conv2d", (2, 4, 9, 8), (4, 1, 3, 3), {"groups": 4, "stride": 2, "padding": 1}),
    ("conv2d", (2, 4, 10, 11), (4, 1, 3, 3), {"groups": 4, "stride": (2, 3), "padding": (0, 2)}),
    ("conv2d", (2, 3, 9, 9), (6, 1, 3, 2), {"groups": 3, "padding": (1, 0), "dilation": (2, 3)}),   # multiplier 2
    ("conv2d", (1, 5, 6, 7), (5, 1, 5, 5), {"groups": 5, "padding": 2}),                          # batch 1, 5x5
    ("conv2d", (2, 2, 1, 1), (2, 1, 3, 3), {"groups": 2, "padding": 1}),                          # only the centre
    ("conv2d", (2, 3, 4, 4), (3, 1, 4, 4), {"groups": 3}),                                     # kernel = map
    ("conv2d", (2, 3, 5, 60), (3, 1, 3, 3), {"groups": 3, "padding": 1}),                         # wide: offsets
    ("conv2d", (2, 3, 8, 7), (3, 1, 3, 2), {"groups": 3, "dilation": 2, "padding": (1, 2)}),        # flipped, dilated
    ("conv2d", (2, 3, 5, 4), (3, 1, 3, 3), {"groups": 3, "padding": (3, 1)}),                     # padding > reach
    ("conv1d", (2, 4, 9), (4, 1, 3), {"groups": 4, "padding": 2}),
    ("conv1d", (3, 2, 13), (6, 1, 4), {"groups": 2, "stride": 3, "dilation": 2, "padding": 1}),
    ("conv3d", (2, 3, 4, 5, 4), (3, 1, 3, 2, 3), {"groups": 3, "padding": 1}),                    # 3-D: offsets
]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(DEPTHWISE_CASES)]


ALGORITHMS = {   # (BAND_WIDTH, CALL_COST): a band per output row, one per block of all rows, per kernel offset
    "band-rows": (_conv_depthwise.BAND_WIDTH, 0), "band-blocks": (_conv_depthwise.BAND_WIDTH, 1 << 50),
    "offsets": (0, 0)}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,x_shape,w_shape,options", DEPTHWISE_CASES, ids=IDS)
def test_depthwise_matches_torch(name, x_shape, w_shape, options, dtype, algorithm, monkeypatch):
    monkeypatch.setattr(_conv_depthwise, "BAND_WIDTH", ALGORITHMS[algorithm][0])
    monkeypatch.setattr(_conv_depthwise, "CALL_COST", ALGORITHMS[algorithm][1])
    check_conv(name, x_shape, w_shape, options, dtype, bias_size=w_shape[0])


def test_depthwise_band_is_used_and_matches_offsets(monkeypatch):
    """The banded and the per-offset algorithms give the same values and gradients (and the band runs at all)."""
    x, w = sample((4, 8, 12, 12), F64, seed=4), sample((16, 1, 3, 3), F64, seed=5)
    calls = []
    band = _conv_depthwise._Plan.band
    monkeypatch.setattr(_conv_depthwise._Plan, "band", lambda *a, **k: calls.append(a[0].B) or band(*a, **k))

    def run():
        xe, we = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
        y = ember.nn.functional.conv2d(xe, we, padding=1, stride=2, groups=8)
        (y * y).sum().backward()
        return y.detach().numpy(), xe.grad.numpy(), we.grad.numpy()
    banded = run()
    assert len(calls) == 2 and 1 < calls[0] < 6   # forward and input gradient, blocks of a few rows
    monkeypatch.setattr(_conv_depthwise, "BAND_WIDTH", 0)
    for a, b in zip(banded, run()):
        numpy.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_depthwise_edges():
    check(lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=1, groups=3), numpy.zeros((0, 3, 5, 5), F32),
          sample((3, 1, 3, 3), F32))
    check(lambda lib, x, w: lib.nn.functional.conv2d(x.transpose(2, 3), w, stride=2, groups=3),
          sample((2, 3, 6, 7), F32), sample((3, 1, 3, 3), F32), rtol=1e-4, atol=1e-4)
    gradcheck(lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=1, stride=2, groups=2),
              sample((2, 2, 5, 4), F64), sample((4, 1, 3, 2), F64))


POINTWISE_CASES = [   # 1x1 convolutions over maps of 32 or more positions (16 for small weights): a matmul per sample
    ("conv2d", (3, 6, 8, 5), (4, 6, 1, 1), {}),
    ("conv2d", (3, 6, 4, 4), (5, 6, 1, 1), {}),   # 4x4 maps: per sample only for small weights
    ("conv2d", (2, 6, 7, 9), (8, 3, 1, 1), {"groups": 2}),
    ("conv2d", (1, 5, 9, 9), (3, 5, 1, 1), {"dilation": 3}),
    ("conv1d", (2, 3, 40), (5, 3, 1), {}),
    ("conv3d", (2, 3, 2, 4, 4), (2, 3, 1, 1, 1), {}),
    ("conv_transpose2d", (2, 5, 8, 8), (5, 3, 1, 1), {}),
    ("conv_transpose2d", (2, 4, 8, 8), (4, 3, 1, 1), {"output_padding": 1, "stride": 2}),   # not pointwise
]


@pytest.mark.parametrize("min_positions", [_conv_pointwise.MIN_POSITIONS, 1 << 30], ids=["per-sample", "columns"])
@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,x_shape,w_shape,options", POINTWISE_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(POINTWISE_CASES)])
def test_pointwise_matches_torch(name, x_shape, w_shape, options, dtype, min_positions, monkeypatch):
    monkeypatch.setattr(_conv_pointwise, "MIN_POSITIONS", min_positions)
    bias = w_shape[1] * options.get("groups", 1) if "transpose" in name else w_shape[0]
    check_conv(name, x_shape, w_shape, options, dtype, bias_size=bias)


def test_pointwise_edges(monkeypatch):
    calls = []
    forward = _conv_pointwise.forward
    monkeypatch.setattr(_conv_pointwise, "forward", lambda *a: calls.append(1) or forward(*a))
    check(lambda lib, x, w: lib.nn.functional.conv2d(x, w), numpy.zeros((0, 3, 8, 8), F32), sample((4, 3, 1, 1), F32))
    check(lambda lib, x, w: lib.nn.functional.conv2d(x.transpose(2, 3), w, groups=3), sample((2, 3, 8, 9), F32),
          sample((6, 1, 1, 1), F32), rtol=1e-4, atol=1e-4)   # 1x1 depthwise, multiplier 2: the band
    gradcheck(lambda lib, x, w: lib.nn.functional.conv2d(x, w, groups=2), sample((2, 4, 4, 8), F64),
              sample((2, 2, 1, 1), F64))
    assert len(calls) >= 3


def test_columns_equal_the_per_offset_columns():
    """The columns of the moved, padded input (every offset's in one strided copy, or the live offsets' one by one):
    the same values as one copy per live offset of numpy.pad's padded input."""
    rng = numpy.random.default_rng(0)
    paths = set()
    for _ in range(200):
        n, batch_last = int(rng.integers(1, 4)), bool(rng.integers(0, 2))
        kernel, stride, dilation = (tuple(int(v) for v in rng.integers(1, high, n)) for high in (4, 3, 3))
        padding = tuple(int(v) for v in rng.integers(0, 3, n))
        size = tuple(int(max(1, k + (k - 1) * (d - 1) + rng.integers(-2, 5) - 2 * p))
                     for k, d, p in zip(kernel, dilation, padding))
        padded = tuple(s + 2 * p for s, p in zip(size, padding))
        out = [(s - d * (k - 1) - 1) // t + 1 for s, k, t, d in zip(padded, kernel, stride, dilation)]
        live = conv._live_offsets(kernel, stride, dilation, out, padding, size) if min(out) >= 1 else ()
        if not live or conv._whole(live, padded):   # no output, every window in the padding, or a 1x1 kernel
            continue
        C, N = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        x = rng.standard_normal((N, C) + size)
        moved = numpy.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in padding))
        moved = numpy.moveaxis(moved, 0, -1) if batch_last else moved.swapaxes(0, 1)
        got = conv._columns(numpy, conv._moved(numpy, x, padding, batch_last), live, out, 1, batch_last,
                            (kernel, stride, dilation))
        index = (lambda w: (slice(None),) + w + (slice(None),)) if batch_last else (lambda w: (slice(None),) * 2 + w)
        want = numpy.stack([moved[index(spatial)] for _, spatial in live], axis=1)
        numpy.testing.assert_array_equal(got.reshape(want.shape), want)
        paths.add(len(live) == math.prod(kernel))
    assert paths == {True, False}   # both the strided copy and the live offsets one by one


WEIGHT_GRAD_CASES = [   # the general (columns) algorithm: groups, strides, dilation, offsets that meet only padding
    ("conv2d", (3, 4, 9, 8), (5, 4, 3, 3), {"padding": 1}),
    ("conv2d", (2, 4, 11, 20), (6, 2, 3, 2), {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 2}),
    ("conv2d", (2, 6, 1, 1), (4, 3, 3, 3), {"padding": 1, "groups": 2}),   # only the centre offset is live
    ("conv1d", (2, 3, 17), (4, 3, 4), {"stride": 3, "padding": 2}),
    ("conv3d", (2, 2, 4, 5, 4), (3, 2, 3, 2, 3), {"padding": 1}),
]


@pytest.mark.parametrize("long_product", [0, 1 << 40], ids=["columns-left", "gradient-left"])
@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,x_shape,w_shape,options", WEIGHT_GRAD_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(WEIGHT_GRAD_CASES)])
def test_weight_gradient_orientations_match_torch(name, x_shape, w_shape, options, dtype, long_product, monkeypatch):
    """The weight gradient as columns @ g^T (transposed into place) or as g @ columns^T (written in place)."""
    monkeypatch.setattr(conv, "LONG_PRODUCT", long_product)
    monkeypatch.setattr(conv, "_blocked", lambda *args: False)   # wider maps: the columns' path, not blocks
    monkeypatch.setattr(_conv_channels_last, "MAX_OUTPUTS", 0)   # small maps: nor channels-last columns
    check_conv(name, x_shape, w_shape, options, dtype)


@pytest.mark.parametrize("channels_last", [64, 0], ids=["channels-last", "columns"])
def test_weight_gradient_owns_its_memory(channels_last, monkeypatch):
    monkeypatch.setattr(conv, "LONG_PRODUCT", 1 << 40)
    monkeypatch.setattr(_conv_channels_last, "MAX_OUTPUTS", channels_last)
    x, w = ember.randn(2, 3, 6, 6), ember.randn(4, 3, 3, 3, requires_grad=True)
    ember.nn.functional.conv2d(x, w, padding=1).sum().backward()
    assert w.grad._data.base is None and w.grad._data.flags.c_contiguous
    gradcheck(lambda lib, x, w: lib.nn.functional.conv2d(x, w, stride=2, padding=1),
              sample((2, 2, 5, 5), F64, seed=4), sample((3, 2, 3, 3), F64, seed=5))


SHORT_CASES = [   # batch-first columns (output 16 or more wide) of few rows: one product per sample
    ("conv2d", (3, 1, 20, 18), (4, 1, 3, 3), {"padding": 1}),
    ("conv2d", (2, 4, 17, 20), (6, 2, 3, 3), {"groups": 2, "stride": (1, 1)}),
    ("conv2d", (2, 3, 18, 40), (5, 3, 3, 3), {"stride": (1, 2), "padding": (1, 0), "dilation": (2, 1)}),
    ("conv1d", (2, 3, 40), (4, 3, 5), {"padding": 2}),
    ("conv2d", (2, 16, 18, 18), (8, 16, 1, 1), {"stride": 1}),   # a 1x1 convolution's columns are its input
    ("conv_transpose2d", (2, 3, 9, 9), (3, 2, 3, 3), {"stride": 2, "padding": 1}),
]


@pytest.mark.parametrize("short", [True, False], ids=["per-sample", "one-product"])
@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,x_shape,w_shape,options", SHORT_CASES, ids=[f"{c[0]}-{i}" for i, c in
                                                                               enumerate(SHORT_CASES)])
def test_per_sample_forward_product_matches_torch_and_the_one_product(name, x_shape, w_shape, options, dtype, short,
                                                                      monkeypatch):
    monkeypatch.setattr(conv, "SHORT_COLUMNS", conv.SHORT_COLUMNS if short else 0)
    monkeypatch.setattr(conv, "_blocked", lambda *args: False)   # the columns' path (grouped, float16, CuPy)
    args = check_conv(name, x_shape, w_shape, options, dtype)
    f = getattr(ember.nn.functional, name)
    y = f(ember.tensor(args[0]), ember.tensor(args[1]), **options).numpy()
    monkeypatch.setattr(conv, "SHORT_COLUMNS", 0)   # the same dot products, but the BLAS may block them otherwise
    numpy.testing.assert_allclose(y, f(ember.tensor(args[0]), ember.tensor(args[1]), **options).numpy(),
                                  rtol=1e-6 if dtype is F32 else 1e-14, atol=1e-6 if dtype is F32 else 1e-14)


WINOGRAD_CASES = [   # 3x3 stride-1 ungrouped 2-D convolutions: Winograd's F(2x2, 3x3) where the thresholds allow
    ("conv2d", (2, 3, 8, 8), (4, 3, 3, 3), {"padding": 1}),                        # even output
    ("conv2d", (3, 4, 9, 11), (5, 4, 3, 3), {}),                                   # odd output, no padding
    ("conv2d", (1, 2, 7, 10), (3, 2, 3, 3), {"padding": (2, 1)}),                  # batch 1, padding per dim
    ("conv2d", (2, 3, 5, 6), (2, 3, 3, 3), {"padding": 3}),                        # padding beyond the kernel's reach
    ("conv2d", (2, 2, 3, 3), (3, 2, 3, 3), {}),                                    # one output position
    ("conv2d", (2, 3, 6, 6), (4, 3, 3, 3), {"padding": "same"}),
    ("conv_transpose2d", (2, 4, 7, 9), (4, 3, 3, 3), {"padding": 1}),              # the input gradient's algorithm
    ("conv2d", (2, 3, 8, 8), (4, 3, 3, 3), {"dilation": 2, "padding": 2}),         # not Winograd: dilated
    ("conv2d", (2, 4, 8, 8), (4, 2, 3, 3), {"groups": 2, "padding": 1}),           # not Winograd: grouped
]


@pytest.mark.parametrize("winograd", [True, False], ids=["winograd", "columns"])
@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,x_shape,w_shape,options", WINOGRAD_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(WINOGRAD_CASES)])
def test_winograd_matches_torch_and_the_columns(name, x_shape, w_shape, options, dtype, winograd, monkeypatch):
    monkeypatch.setattr(_conv_winograd, "MIN_CHANNELS", 1 if winograd else 1 << 30)
    monkeypatch.setattr(_conv_winograd, "MIN_SIZE", 1)
    bias = w_shape[1] if "transpose" in name else w_shape[0]
    check_conv(name, x_shape, w_shape, options, dtype, bias_size=bias)


def test_winograd_is_taken_for_wide_layers_and_differentiates_twice(monkeypatch):
    calls = []
    for name in ("forward", "input_grad", "weight_grad", "transformed_grad"):
        original = getattr(_conv_winograd, name)
        monkeypatch.setattr(_conv_winograd, name, lambda *a, _f=original, _n=name: calls.append(_n) or _f(*a))
    x = ember.randn(2, 128, 10, 10, requires_grad=True)
    w = ember.randn(128, 128, 3, 3, requires_grad=True)
    ember.nn.functional.conv2d(x, w, padding=1).square().sum().backward()
    assert sorted(calls) == ["forward", "input_grad", "transformed_grad", "weight_grad"]
    calls.clear()
    ember.nn.functional.conv2d(x[:, :64], w[:64, :64], padding=1).sum().backward()   # 64 channels: the columns
    assert calls == []
    ember.nn.functional.conv2d(x[:, :, :9, :9], w, padding=1).sum().backward()   # 9x9 output: the columns
    assert calls == []
    monkeypatch.setattr(_conv_winograd, "MIN_CHANNELS", 1)
    monkeypatch.setattr(_conv_winograd, "MIN_SIZE", 1)
    gradcheck(lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=1), sample((2, 2, 5, 4), F64, seed=6),
              sample((3, 2, 3, 3), F64, seed=7))
    assert "forward" in calls and "input_grad" in calls and "weight_grad" in calls


def test_winograd_edges(monkeypatch):
    monkeypatch.setattr(_conv_winograd, "MIN_CHANNELS", 1)
    monkeypatch.setattr(_conv_winograd, "MIN_SIZE", 1)
    check(lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=1), numpy.zeros((0, 3, 8, 8), F32),
          sample((4, 3, 3, 3), F32))   # empty batch: the columns' path
    check(lambda lib, x, w: lib.nn.functional.conv2d(x.transpose(2, 3), w, padding=1), sample((2, 3, 9, 8), F32),
          sample((4, 3, 3, 3), F32), rtol=1e-4, atol=1e-4)   # non-contiguous input
    x = sample((2, 3, 9, 9), F32)
    x[0, 1, 4, 4] = numpy.inf   # an infinity reaches only the outputs whose window holds it, as in PyTorch
    check(lambda lib, x, w: lib.nn.functional.conv2d(x, w), x, numpy.abs(sample((4, 3, 3, 3), F32)) + 0.1,
          grad=False)
    g = sample((2, 4, 7, 7), F32)
    g[1, 2, 3, 3] = numpy.inf   # the same for an infinite output gradient: the input gradient's infinities
    w = numpy.abs(sample((4, 3, 3, 3), F32)) + 0.1
    grads = []
    for lib in (ember, torch):
        xt, wt = lib.tensor(sample((2, 3, 9, 9), F32), requires_grad=True), lib.tensor(w, requires_grad=True)
        lib.nn.functional.conv2d(xt, wt).backward(lib.tensor(g))
        grads.append((xt.grad.numpy(), wt.grad.numpy()))
    for got, want in zip(*grads):
        numpy.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    w = sample((4, 3, 3, 3), F64)
    w[1, 2, 0, 0] = numpy.inf   # an infinite weight: the forward's columns, then Winograd's weight gradient
    check(lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=1), numpy.abs(sample((2, 3, 9, 9), F64)) + 0.1, w)


def test_winograd_writes_every_pooled_element_it_reads(monkeypatch):
    """Scratch arrays come from the pool uninitialised: filled with NaN, the results are the same."""
    monkeypatch.setattr(_conv_winograd, "MIN_CHANNELS", 1)
    monkeypatch.setattr(_conv_winograd, "MIN_SIZE", 1)
    cases = [((2, 3, 9, 8), 1), ((1, 2, 7, 10), 0), ((2, 3, 5, 6), 3)]
    clean = [_winograd_results(x_shape, padding) for x_shape, padding in cases]
    empty = _conv_winograd._buffers.empty

    def poisoned(*args):
        array = empty(*args)
        array[...] = numpy.nan
        return array
    monkeypatch.setattr(_conv_winograd._buffers, "empty", poisoned)
    for want, (x_shape, padding) in zip(clean, cases):
        for a, b in zip(want, _winograd_results(x_shape, padding)):
            numpy.testing.assert_array_equal(a, b)


def _winograd_results(x_shape, padding):
    x, w = ember.tensor(sample(x_shape, F64, seed=8), requires_grad=True), ember.tensor(sample((4, x_shape[1], 3, 3),
                                                                                             F64, seed=9))
    w.requires_grad_()
    y = ember.nn.functional.conv2d(x, w, padding=padding)
    y.backward(ember.tensor(sample(tuple(y.shape), F64, seed=10)))
    return y.detach().numpy(), x.grad.numpy(), w.grad.numpy()


def test_input_gradient_takes_the_live_offsets_weights_the_forward_gathered(monkeypatch):
    """A convolution whose maps meet only some kernel offsets gathers those offsets' weights once: the input
    gradient takes the forward's gather (PyTorch's values), and a weight changed in place in between still raises
    PyTorch's error rather than meeting stale weights."""
    gathers = []
    grouped_weight = conv._grouped_weight
    monkeypatch.setattr(conv, "_grouped_weight", lambda *args: gathers.append(len(args[3])) or grouped_weight(*args))
    check_conv("conv2d", (2, 6, 1, 1), (4, 6, 3, 3), {"padding": 1}, F64)
    assert gathers and all(count == 1 for count in gathers)
    gathers.clear()
    x, w = ember.randn(2, 6, 1, 1, requires_grad=True), ember.randn(4, 6, 3, 3, requires_grad=True)
    y = ember.nn.functional.conv2d(x, w, padding=1)
    y.sum().backward(retain_graph=True)
    assert gathers == [1]   # the forward's; the backward reused it
    with ember.no_grad():
        w.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("x_shape,w_shape,padding", [((2, 16, 14, 14), (4, 16, 5, 5), 2),       # Fourier's spectra
                                                     ((2, 128, 10, 10), (128, 128, 3, 3), 1)],  # Winograd's tiles
                         ids=["fourier", "winograd"])
def test_an_infinite_input_with_both_gradients(x_shape, w_shape, padding):
    """A finite output gradient is transformed once for both gradients; with an infinite input the weight gradient
    still takes the columns' path (its infinities and NaNs where PyTorch's are), the input gradient the transform."""
    x = sample(x_shape, F64, seed=21)
    x[0, 3, 6, 6] = numpy.inf
    w = numpy.abs(sample(w_shape, F64, seed=22)) + 0.1
    results = []
    for lib in (ember, torch):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.conv2d(xt, wt, padding=padding)
        y.backward(lib.tensor(numpy.cos(numpy.arange(y.numel())).reshape(tuple(y.shape))))
        results.append((xt.grad.numpy(), wt.grad.numpy()))
    for got, want in zip(*results):
        numpy.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)   # NaN and infinities in the same places


@pytest.mark.parametrize("n, x_shape, w_shape, options", [
    (1, (2, 4, 11), (6, 2, 3), dict(stride=2, padding=1, dilation=2, groups=2)),
    (2, (2, 4, 9, 8), (6, 2, 3, 2), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)),
    (2, (1, 3, 7, 7), (5, 3, 5, 5), dict(padding=2)),
    (3, (1, 2, 5, 6, 5), (3, 2, 2, 3, 2), dict(stride=(1, 2, 2), padding=1)),
])
def test_nn_grad_functions_match_torch(n, x_shape, w_shape, options):
    rng = numpy.random.default_rng(0)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    conv = getattr(torch.nn.functional, f"conv{n}d")
    g = rng.standard_normal(conv(torch.tensor(x), torch.tensor(w), **options).shape)
    for name, args in ((f"conv{n}d_input", lambda lib: (x_shape, lib.tensor(w), lib.tensor(g))),
                       (f"conv{n}d_weight", lambda lib: (lib.tensor(x), w_shape, lib.tensor(g)))):
        ours = getattr(ember.nn.grad, name)(*args(ember), **options)
        theirs = getattr(torch.nn.grad, name)(*args(torch), **options)
        numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-10)
