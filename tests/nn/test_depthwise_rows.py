"""Depthwise forwards with bands of one output row where ``FORWARD_CALL_COST`` picks them (MobileNetV2's 16x16 layers,
stride 1 and 2): PyTorch's values and input gradients in float32 and float64 (batch 1, odd maps, non-contiguous
inputs), the per-offset form's values to float64 round-off and the same bits on 1 and 3 threads."""
import numpy
import pytest
import torch

import ember
from ember.ops import _conv_depthwise
from tests.oracle import assert_fast_path_matches, count_calls, noncontiguous, sample

F32, F64 = numpy.float32, numpy.float64


def _rows(shape, stride):
    """Output rows per band the forward's plan takes for an input of ``shape`` (N, C, H, W), 3x3, padding 1."""
    N, C, H, W = shape
    out = [(s + 2 - 3) // stride + 1 for s in (H, W)]
    plan = _conv_depthwise._plan((C, 1, 3, 3), (stride,) * 2, (1, 1), out, (H + 2, W + 2), N, C,
                                 _conv_depthwise.FORWARD_CALL_COST)
    return plan.B


@pytest.mark.parametrize("stride", [1, 2])
def test_the_16x16_layers_take_one_row_a_band(stride):
    assert _rows((32, 144, 16, 16), stride) == 1
    assert _rows((32, 192, 8, 8), 1) == 2 and _rows((32, 384, 4, 4), 1) == 4   # the smaller maps keep theirs


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("shape,stride", [((32, 144, 16, 16), 1), ((32, 144, 16, 16), 2), ((1, 6, 16, 16), 1),
                                          ((3, 5, 15, 13), 1), ((2, 4, 17, 16), 2)],
                         ids=["mobilenet", "mobilenet-strided", "batch-1", "odd", "odd-strided"])
def test_matches_torch(shape, stride, dtype):
    tolerance = 1e-4 if dtype == F32 else 1e-10
    x, w = sample(shape, dtype, seed=1), sample((shape[1], 1, 3, 3), dtype, seed=2)
    for source in (x, noncontiguous(x)):
        results = []
        for lib in (ember, torch):
            xt = lib.tensor(source, requires_grad=True)
            y = lib.nn.functional.conv2d(xt, lib.tensor(w), stride=stride, padding=1, groups=shape[1])
            y.backward(lib.tensor(numpy.cos(numpy.arange(y.numel())).reshape(tuple(y.shape)).astype(dtype)))
            results.append((y.detach().numpy(), xt.grad.numpy()))
        for got, want in zip(*results):
            assert got.dtype == want.dtype
            numpy.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("stride", [1, 2])
def test_matches_the_per_offset_form(stride, threads, monkeypatch):
    monkeypatch.setattr(ember.ops._parallel, "MIN_ELEMENTS", 64)
    calls = count_calls(monkeypatch, _conv_depthwise, ("_forward_offsets",))
    x, w = sample((5, 12, 16, 16), F64, seed=3), sample((12, 1, 3, 3), F64, seed=4)

    def run(banded):
        monkeypatch.setattr(_conv_depthwise, "BAND_WIDTH", 48 if banded else 0)
        with ember.no_grad():
            return [ember.nn.functional.conv2d(ember.tensor(x), ember.tensor(w), stride=stride, padding=1,
                                               groups=12).numpy()]
    assert_fast_path_matches(run, threads, calls, {})
    assert calls == {"_forward_offsets": 1}


def test_the_strided_input_gradient_takes_the_forwards_rows(monkeypatch):
    """The strided input gradient's bands are priced as the forward's (``FORWARD_CALL_COST``): one output row a band
    for MobileNetV2's 144-channel 16x16 layer at stride 2, with PyTorch's input gradient."""
    rows = []
    plan = _conv_depthwise._plan
    monkeypatch.setattr(_conv_depthwise, "_plan", lambda *a: rows.append(plan(*a).B) or plan(*a))
    x, w = sample((32, 144, 16, 16), F32, seed=5), sample((144, 1, 3, 3), F32, seed=6)
    grads = []
    for lib in (ember, torch):
        xt = lib.tensor(x, requires_grad=True)
        lib.nn.functional.conv2d(xt, lib.tensor(w), stride=2, padding=1, groups=144).sum().backward()
        grads.append(xt.grad.numpy())
    assert rows[-1] == 1
    numpy.testing.assert_allclose(*grads, rtol=1e-4, atol=1e-4)
