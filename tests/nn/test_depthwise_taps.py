"""Depthwise weight gradients by one dot per channel and tap (``ops._conv_depthwise_taps``): which convolutions take
them, PyTorch's weight gradients (1-D and 2-D, padding 0 to the kernel's reach, dilation, strides, odd and rectangular
maps, batch 1, non-contiguous inputs, float32/float64), the banded path's to float64 round-off with the same bits on 1
and 3 threads (stride 1 and 2), and non-finite inputs on the per-offset form."""
import numpy
import pytest
import torch

import ember
from ember.ops import _conv_depthwise, _conv_depthwise_taps
from tests.oracle import assert_fast_path_matches, count_calls, noncontiguous, sample

F32, F64 = numpy.float32, numpy.float64


@pytest.mark.parametrize("x_shape,g_shape,stride,padding,dilation,kernel,taken", [
    ((32, 144, 16, 16), (32, 144, 16, 16), (1, 1), (1, 1), (1, 1), (3, 3), True),
    ((2, 3, 5, 40), (2, 3, 5, 40), (1, 1), (1, 2), (1, 2), (3, 3), True),
    ((2, 3, 40), (2, 3, 38), (1,), (0,), (1,), (3,), True),
    ((32, 192, 8, 8), (32, 192, 8, 8), (1, 1), (1, 1), (1, 1), (3, 3), False),   # rows under MIN_WIDTH
    ((32, 96, 32, 32), (32, 96, 16, 16), (2, 2), (1, 1), (1, 1), (3, 3), True),   # strided
    ((32, 144, 16, 16), (32, 144, 8, 8), (2, 2), (1, 1), (1, 1), (3, 3), False),   # strided, under STRIDED_WIDTH
    ((2, 3, 16, 16), (2, 6, 16, 16), (1, 1), (1, 1), (1, 1), (3, 3), False),   # two output channels an input
    ((2, 3, 16, 16), (2, 3, 20, 20), (1, 1), (3, 3), (1, 1), (3, 3), False),   # padding beyond the reach
    ((2, 3, 4, 16, 16), (2, 3, 4, 16, 16), (1, 1, 1), (1, 1, 1), (1, 1, 1), (3, 3, 3), False),   # 3-D
    ((0, 3, 16, 16), (0, 3, 16, 16), (1, 1), (1, 1), (1, 1), (3, 3), False),   # empty batch
])
def test_which_convolutions_take_the_taps(x_shape, g_shape, stride, padding, dilation, kernel, taken):
    assert _conv_depthwise_taps.applies(x_shape, g_shape, stride, padding, dilation, kernel) == taken


CASES = [   # input shape, kernel, padding, dilation, stride
    ((4, 6, 16, 16), (3, 3), 1, 1, 1),
    ((1, 5, 17, 19), (3, 3), 1, 1, 1),    # batch 1, odd maps
    ((3, 4, 7, 20), (3, 3), 0, 1, 1),     # no padding
    ((2, 3, 9, 18), (5, 5), 2, 1, 1),
    ((2, 3, 9, 18), (3, 3), 2, 2, 1),     # dilated, padding up to the reach
    ((2, 3, 6, 16), (3, 1), (1, 0), 1, 1),
    ((2, 4, 5, 16), (2, 4), (1, 3), 1, 1),   # even kernel, padding the whole reach
    ((2, 3, 9, 32), (3, 3), 1, 1, 2),     # strided, odd rows
    ((2, 3, 8, 35), (3, 3), 1, 1, (1, 3)),
    ((2, 3, 10, 33), (3, 3), 2, 2, 2),    # strided and dilated
    ((2, 3, 33), (3,), 1, 1, 1),          # 1-D
    ((2, 3, 40), (5,), 4, 2, 1),
    ((2, 3, 41), (3,), 1, 1, 2),
]


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("shape,kernel,padding,dilation,stride", CASES)
def test_matches_torch(shape, kernel, padding, dilation, stride, dtype, monkeypatch):
    calls = count_calls(monkeypatch, _conv_depthwise_taps, ("weight_grad",))
    tolerance = 1e-4 if dtype == F32 else 1e-10
    C = shape[1]
    x, w = sample(shape, dtype, seed=1), sample((C, 1) + kernel, dtype, seed=2) / 3
    for source in (x, noncontiguous(x)):
        results = []
        for lib in (ember, torch):
            xt, wt = lib.tensor(source, requires_grad=True), lib.tensor(w, requires_grad=True)
            conv = lib.nn.functional.conv1d if len(kernel) == 1 else lib.nn.functional.conv2d
            y = conv(xt, wt, stride=stride, padding=padding, dilation=dilation, groups=C)
            y.backward(lib.tensor(numpy.cos(numpy.arange(y.numel())).reshape(tuple(y.shape)).astype(dtype)))
            results.append((y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()))
        for got, want in zip(*results):
            assert got.dtype == want.dtype
            numpy.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance * 10)
    assert calls == {"weight_grad": 2}


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("stride", [1, 2])
def test_matches_the_banded_path(threads, stride, monkeypatch):
    monkeypatch.setattr(ember.ops._parallel, "MIN_ELEMENTS", 64)
    monkeypatch.setattr(_conv_depthwise_taps, "CHUNK_BYTES", 1 << 14)   # a few channels a block, several blocks
    calls = count_calls(monkeypatch, _conv_depthwise_taps, ("weight_grad",))
    x, w = sample((5, 12, 16, 36), F64, seed=3), sample((12, 1, 3, 3), F64, seed=4)

    def run(taps):
        for name in ("MIN_WIDTH", "STRIDED_WIDTH"):
            monkeypatch.setattr(_conv_depthwise_taps, name, 16 if taps else 1 << 30)
        wt = ember.tensor(w, requires_grad=True)
        y = ember.nn.functional.conv2d(ember.tensor(x), wt, stride=stride, padding=1, groups=12)
        y.backward(ember.tensor(numpy.sin(numpy.arange(y.numel())).reshape(tuple(y.shape))))
        return [wt.grad.numpy()]
    assert_fast_path_matches(run, threads, calls, {"weight_grad": 1})


@pytest.mark.parametrize("value", [numpy.nan, numpy.inf])
def test_non_finite_inputs_take_the_per_offset_form(value, monkeypatch):
    """A NaN or infinity in one corner reaches only the taps that meet it, as in PyTorch's kernel."""
    calls = count_calls(monkeypatch, _conv_depthwise, ("_weight_offsets",))
    x, w = sample((2, 3, 6, 16), F32, seed=5), sample((3, 1, 3, 3), F32, seed=6)
    x[1, 2, 0, 0] = value
    grads = []
    for lib in (ember, torch):
        wt = lib.tensor(w, requires_grad=True)
        lib.nn.functional.conv2d(lib.tensor(x), wt, padding=1, groups=3).sum().backward()
        grads.append(wt.grad.numpy())
    numpy.testing.assert_allclose(*grads, rtol=1e-4, atol=1e-4)
    assert numpy.isfinite(grads[0][:2]).all() and numpy.isfinite(grads[0][2]).sum() == 5
    assert calls == {"_weight_offsets": 1}
