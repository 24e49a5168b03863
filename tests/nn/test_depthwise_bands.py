"""Depthwise convolutions keep the band built from a weight (``ops._kept``) for later calls with the same
weight bits: a weight changed in any way (in place behind autograd's back, one signed zero) gets a new band, and the
results are PyTorch's each time; the kept bands stay within their budget."""
import numpy
import pytest
import torch

import ember
from ember.ops import _conv_depthwise, _kept


def _pair(channels=6):
    rng = numpy.random.default_rng(0)
    w = rng.standard_normal((channels, 1, 3, 3)).astype(numpy.float32)
    x = rng.standard_normal((2, channels, 8, 8)).astype(numpy.float32)
    return x, w


def _check(x, w):
    got = ember.nn.functional.conv2d(ember.from_numpy(x), ember.from_numpy(w), padding=1, groups=w.shape[0])
    expected = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1, groups=w.shape[0])
    numpy.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)
    return got.numpy()


def _fresh(x, w):
    """The convolution with no band kept."""
    kept = dict(_kept._KEPT)
    _kept._KEPT.clear()
    try:
        return _check(x, w)
    finally:
        _kept._KEPT.clear()
        _kept._KEPT.update(kept)


def test_a_band_is_built_once_per_weight_and_again_when_it_changes(monkeypatch):
    monkeypatch.setattr(_kept, "_KEPT", {})
    built = []
    places = _conv_depthwise._Plan._places
    monkeypatch.setattr(_conv_depthwise._Plan, "_places", lambda self, *a: built.append(a) or places(self, *a))
    x, w = _pair()
    first = _check(x, w)
    _check(x, w)
    assert len(built) == 1
    module = ember.nn.Conv2d(6, 6, 3, padding=1, groups=6, bias=False)
    with ember.no_grad():
        module.weight.copy_(ember.from_numpy(w))
        numpy.testing.assert_array_equal(module(ember.from_numpy(x)).numpy(), first)
        module(ember.from_numpy(x))
        assert len(built) == 2   # a band for each weight array, though their values are the same
        module.weight.data.mul_(2)   # in place, as user code may write it: the band follows the values
        twice = module(ember.from_numpy(x)).numpy()
    assert len(built) == 3
    numpy.testing.assert_allclose(twice, 2 * first, rtol=1e-6, atol=1e-6)
    w[3] = 0.0
    zeros = _check(x, w)
    w[3] = -0.0   # the same values, other bits: another band
    signed = _check(x, w)
    assert len(built) == 5
    numpy.testing.assert_array_equal(signed.view(numpy.uint32), _fresh(x, w).view(numpy.uint32))
    w[3] = 0.0
    numpy.testing.assert_array_equal(zeros.view(numpy.uint32), _fresh(x, w).view(numpy.uint32))


@pytest.mark.parametrize("budget", [1, 1 << 30])
def test_kept_bands_stay_within_the_budget_and_read_only(budget, monkeypatch):
    monkeypatch.setattr(_kept, "MAX_BYTES", budget)
    monkeypatch.setattr(_kept, "_KEPT", {})
    pairs = [_pair(channels) for channels in (4, 6, 8)]   # alive: the bands go with their weight arrays
    for x, w in pairs:
        _check(x, w)
    kept = _kept._KEPT
    assert len(kept) == (0 if budget == 1 else 3)
    assert all(not entry.result.flags.writeable for entry in kept.values())
    training = ember.nn.Conv2d(8, 8, 3, padding=1, groups=8)
    x = ember.randn(2, 8, 8, 8, requires_grad=True)
    training(x).square().sum().backward()   # the input gradient's band (read as kept) too
    assert x.grad is not None and training.weight.grad is not None


@pytest.mark.parametrize("threads", [1, 3])
def test_non_finite_inputs_found_in_the_products_take_the_per_offset_form(threads, monkeypatch):
    """The banded forward checks its products (per part of the channels, before an evaluation chain's batch norm and
    clamp) rather than its input: an input NaN or infinity, which the band's zeros spread over a channel, sends the
    whole convolution to the per-offset form, whose NaN and infinities are PyTorch's, also where other parts were
    done and clamped already."""
    from ember.ops import _parallel
    monkeypatch.setattr(_parallel, "MIN_ELEMENTS", 8)
    before = _parallel.num_threads()
    offsets = []
    forward_offsets = _conv_depthwise._forward_offsets
    monkeypatch.setattr(_conv_depthwise, "_forward_offsets", lambda *a: offsets.append(1) or forward_offsets(*a))
    rng = numpy.random.default_rng(4)
    x = rng.standard_normal((3, 8, 9, 9)).astype(numpy.float32)
    x[2, 6, 4, 4], x[0, 1, 0, 8] = numpy.nan, numpy.inf
    values = [rng.standard_normal(shape).astype(numpy.float32) for shape in ((8, 1, 3, 3), (8,), (8,))]
    results = []
    for lib in (ember, torch):
        model = lib.nn.Sequential(lib.nn.Conv2d(8, 8, 3, padding=1, groups=8), lib.nn.BatchNorm2d(8),
                                  lib.nn.ReLU6(inplace=True)).eval()
        with lib.no_grad():
            for tensor, value in zip((model[0].weight, model[0].bias, model[1].running_mean), values):
                tensor.copy_(lib.from_numpy(value))
            if lib is ember:
                _parallel.set_num_threads(threads)
            try:
                results.append(model(lib.from_numpy(x.copy())).numpy())
            finally:
                _parallel.set_num_threads(before)
    assert offsets == [1]
    got, expected = results
    numpy.testing.assert_array_equal(numpy.isnan(got), numpy.isnan(expected))
    assert numpy.isnan(got).sum() == 9   # the windows meeting the NaN (the infinity's clamped to 0 or 6)
    numpy.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("multiplier", [1, 2])
def test_the_forward_band_is_the_band_transposed_and_laid_out_row_major(multiplier):
    """The forward's right operand is the band's transpose as a C-contiguous array (OpenBLAS's small products with a
    transposed right operand run slower), the same taps as the adjoints' band, and the forward gives PyTorch's."""
    rng = numpy.random.default_rng(1)
    w = rng.standard_normal((5 * multiplier, 1, 3, 3)).astype(numpy.float32)
    plan = _conv_depthwise._plan(w.shape, (1, 1), (1, 1), (6, 7), (8, 9), 3, 5, _conv_depthwise.FORWARD_CALL_COST)
    across = plan.band(numpy, w, 5, numpy.float32, 7, 1, across=True)
    assert across.flags.c_contiguous
    numpy.testing.assert_array_equal(across, plan.band(numpy, w, 5, numpy.float32, 7, 1).swapaxes(1, 2))
    x = rng.standard_normal((3, 5, 6, 7)).astype(numpy.float32)
    got = ember.nn.functional.conv2d(ember.from_numpy(x), ember.from_numpy(w), padding=1, groups=5)
    expected = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1, groups=5)
    numpy.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)


def test_training_keeps_no_band(monkeypatch):
    """A forward whose weight gradient follows (training: the weight changes every step) and the stride-1 input
    gradient (a flipped view of the weight made per call) build their bands without keeping them; an evaluation keeps
    its one."""
    monkeypatch.setattr(_kept, "_KEPT", {})
    x, w = _pair()
    wt = ember.tensor(w, requires_grad=True)
    xt = ember.tensor(x, requires_grad=True)
    y = ember.nn.functional.conv2d(xt, wt, padding=1, groups=6)
    y.backward(ember.ones_like(y))
    assert not _kept._KEPT
    expected = torch.nn.functional.conv2d(torch.tensor(x, requires_grad=True), torch.tensor(w), padding=1, groups=6)
    numpy.testing.assert_allclose(y.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-5)
    with ember.no_grad():
        ember.nn.functional.conv2d(ember.tensor(x), wt, padding=1, groups=6)
    assert len(_kept._KEPT) == 1
