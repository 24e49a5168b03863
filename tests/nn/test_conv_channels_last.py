"""Convolutions by channels-last columns (``_conv_channels_last``: forward and weight gradient) against PyTorch and
against the batch-last columns they replace: values and gradients in float32 and float64 over strides, padding,
dilation, odd sizes, batch 1, an empty batch, non-contiguous inputs, a bias, 1-D and 3-D; the same bits on 1 and 3
threads, with the columns held or cut again, and through ``create_graph``; second derivatives; and the convolutions
that keep the columns' path."""
import numpy
import pytest
import torch

import ember
from ember.ops import _conv_channels_last, conv
from tests.oracle import assert_fast_path_matches, count_calls, gradcheck, sample

F32, F64 = numpy.float32, numpy.float64

CASES = [   # (function, input shape, weight shape, options): each takes the channels-last columns
    ("conv2d", (3, 5, 8, 8), (6, 5, 3, 3), {"padding": 1}),                                   # ResNet's 8x8 stage
    ("conv2d", (2, 4, 9, 7), (3, 4, 3, 2), {"stride": (2, 1), "padding": (1, 0)}),            # odd sizes, strided
    ("conv2d", (1, 6, 11, 10), (4, 6, 3, 3), {"padding": (2, 1), "dilation": (2, 1)}),        # batch 1, dilated
    ("conv2d", (2, 3, 6, 7), (5, 3, 3, 3), {}),                                               # no padding
    ("conv2d", (2, 4, 10, 9), (4, 4, 5, 3), {"padding": "same"}),
    ("conv1d", (3, 4, 12), (5, 4, 3), {"padding": 2, "dilation": 2, "stride": 2}),
    ("conv3d", (2, 2, 4, 5, 4), (3, 2, 3, 2, 3), {"padding": 1}),
]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(CASES)]


@pytest.fixture
def calls(monkeypatch):
    return count_calls(monkeypatch, _conv_channels_last, ("forward", "weight_grad", "input_grad", "moved"))


def _forward(lib, name, x, w, options, bias=None, grad=False):
    """Output (and with ``grad`` the gradients of input, weight and bias) of ``lib``'s convolution."""
    tensors = [lib.tensor(a, requires_grad=grad) for a in (x, w) + (() if bias is None else (bias,))]
    with lib.set_grad_enabled(grad):
        y = getattr(lib.nn.functional, name)(*tensors, **options)
    if not grad:
        return [y.numpy()]
    y.backward(lib.tensor(numpy.cos(numpy.arange(y.numel())).reshape(tuple(y.shape))).to(y.dtype))
    return [y.detach().numpy()] + [t.grad.numpy() for t in tensors]


@pytest.mark.parametrize("grad", [False, True], ids=["no_grad", "grad"])
@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,x_shape,w_shape,options", CASES, ids=IDS)
def test_matches_torch(name, x_shape, w_shape, options, dtype, grad, calls):
    tolerance = 1e-4 if dtype == F32 else 1e-10
    x, w, b = sample(x_shape, dtype, seed=1), sample(w_shape, dtype, seed=2) / 3, sample(w_shape[:1], dtype, seed=3)
    for bias in (None, b):
        ours, theirs = (_forward(lib, name, x, w, options, bias, grad) for lib in (ember, torch))
        for got, want in zip(ours, theirs):
            assert got.dtype == want.dtype
            numpy.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)
    # both gradients from one move of g
    assert calls == ({"forward": 2, "weight_grad": 2, "input_grad": 2, "moved": 2} if grad else {"forward": 2})


@pytest.mark.parametrize("threads", [1, 3])
def test_matches_the_columns_path(threads, calls, monkeypatch):
    """The batch-last columns' values and gradients to float64 round-off (the sums run in another order), and the same
    bits on any number of threads (the products cut by rows on the pool)."""
    monkeypatch.setattr(ember.ops._parallel, "MIN_ELEMENTS", 64)
    monkeypatch.setattr(ember.ops._blas, "SPLIT_WORK", 1 << 10)
    x, w = sample((13, 5, 9, 8), F64, seed=4), sample((7, 5, 3, 3), F64, seed=5)

    def run(channels_last):
        monkeypatch.setattr(_conv_channels_last, "MAX_OUTPUTS", 64 if channels_last else 0)
        return _forward(ember, "conv2d", x, w, {"padding": 1}, sample((7,), F64, seed=6), grad=True)
    assert_fast_path_matches(run, threads, calls, {"forward": 1, "weight_grad": 1, "input_grad": 1, "moved": 1})


def test_edges(calls):
    """An empty batch, a non-contiguous input, and the layer it was measured on (batch 32, 64 channels, 8x8)."""
    for shape in ((0, 4, 8, 8), (32, 64, 8, 8)):
        x, w = sample(shape, F32, seed=7), sample((shape[1], shape[1], 3, 3), F32, seed=8) / 8
        ours, theirs = (_forward(lib, "conv2d", x, w, {"padding": 1}, grad=True) for lib in (ember, torch))
        for got, want in zip(ours, theirs):
            assert got.shape == want.shape
            numpy.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    x, w = sample((3, 9, 4, 7), F64, seed=9), sample((5, 4, 3, 3), F64, seed=10)
    results = []
    for lib in (ember, torch):
        with lib.no_grad():
            results.append(lib.nn.functional.conv2d(lib.tensor(x).transpose(1, 2), lib.tensor(w), padding=1).numpy())
    numpy.testing.assert_allclose(results[0], results[1], rtol=1e-10, atol=1e-10)
    assert calls == {"forward": 3, "weight_grad": 2, "input_grad": 2, "moved": 2}


@pytest.mark.parametrize("x_shape,w_shape,options,grad", [
    ((2, 4, 8, 8), (65, 4, 3, 3), {"padding": 1}, False),             # more output channels
    ((2, 4, 8, 8), (6, 2, 3, 3), {"padding": 1, "groups": 2}, False),  # grouped
    ((2, 4, 1, 1), (6, 4, 3, 3), {"padding": 1}, False),               # offsets that meet only padding
    ((2, 4, 8, 8), (6, 4, 1, 1), {}, False),                           # one kernel offset
    ((2, 4, 20, 20), (6, 4, 3, 3), {"padding": 1}, False),             # a wider map (batch-first)
    ((2, 4, 8, 8), (65, 4, 3, 3), {"padding": 1}, True),               # and its gradients
], ids=["outputs", "groups", "padding-only", "1x1", "wide", "gradients"])
def test_the_columns_path_keeps_the_rest(x_shape, w_shape, options, grad, calls):
    x, w = sample(x_shape, F64, seed=11), sample(w_shape, F64, seed=12)
    results = []
    for lib in (ember, torch):
        wt = lib.tensor(w, requires_grad=grad)
        with lib.set_grad_enabled(grad):
            y = lib.nn.functional.conv2d(lib.tensor(x), wt, **options)
        if grad:
            y.sum().backward()
            results.append(wt.grad.numpy())
        results.append(y.detach().numpy())
    for got, want in zip(results[:len(results) // 2], results[len(results) // 2:]):
        numpy.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    assert not calls


def test_held_cut_again_and_create_graph_give_the_same_bits(calls, monkeypatch):
    """The weight gradient from the forward's held columns, from columns cut again in the backward (over the budget),
    and through the primitives (``create_graph``) has the same bits; second derivatives by finite differences."""
    x, w = sample((3, 4, 7, 6), F64, seed=13), sample((5, 4, 3, 3), F64, seed=14)
    g = ember.tensor(sample((3, 5, 7, 6), F64, seed=15))
    grads = []
    for held, create_graph in ((1 << 40, False), (0, False), (1 << 40, True)):
        monkeypatch.setattr(conv, "HELD_BYTES", held)
        xt, wt = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
        y = ember.nn.functional.conv2d(xt, wt, padding=1)
        grads.append([v.detach().numpy().tobytes()
                      for v in ember.autograd.grad(y, (xt, wt), g, create_graph=create_graph)])
    assert grads[0] == grads[1] == grads[2]
    # through the primitives each gradient moves g itself
    assert calls == {"forward": 3, "weight_grad": 3, "input_grad": 3, "moved": 4}
    gradcheck(lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=1), sample((2, 2, 4, 5), F64, seed=16),
              sample((3, 2, 3, 3), F64, seed=17))


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,x_shape,w_shape,options", [
    ("conv_transpose2d", (2, 4, 5, 6), (4, 3, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ("conv_transpose1d", (3, 5, 7), (5, 2, 4), {"padding": 2, "dilation": 2}),
], ids=["2d-strided", "1d-dilated"])
def test_transposed_convolutions_match_torch(name, x_shape, w_shape, options, dtype, calls):
    """A transposed convolution's forward is the channels-last input gradient, its gradients the forward and the
    weight gradient: PyTorch's values and gradients."""
    tolerance = 1e-4 if dtype == F32 else 1e-10
    x, w, b = sample(x_shape, dtype, seed=18), sample(w_shape, dtype, seed=19) / 3, sample(w_shape[1:2], dtype, seed=20)
    ours, theirs = (_forward(lib, name, x, w, options, b, grad=True) for lib in (ember, torch))
    for got, want in zip(ours, theirs):
        numpy.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)
    assert calls["input_grad"] == 1 and calls["forward"] == 1
