"""Depthwise convolutions keep the band built from a weight (``_conv_depthwise._BANDS``) for later calls with the same
weight bits: a weight changed in any way (in place behind autograd's back, one signed zero) gets a new band, and the
results are PyTorch's each time; the kept bands stay within their budget."""
import numpy
import pytest
import torch

import ember
from ember.ops import _conv_depthwise


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
    kept = dict(_conv_depthwise._BANDS)
    _conv_depthwise._BANDS.clear()
    try:
        return _check(x, w)
    finally:
        _conv_depthwise._BANDS.update(kept)


def test_a_band_is_built_once_per_weight_and_again_when_it_changes(monkeypatch):
    monkeypatch.setattr(_conv_depthwise, "_BANDS", type(_conv_depthwise._BANDS)())
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
        module.weight.data.mul_(2)   # in place, as user code may write it: the band follows the values
        twice = module(ember.from_numpy(x)).numpy()
    assert len(built) == 2
    numpy.testing.assert_allclose(twice, 2 * first, rtol=1e-6, atol=1e-6)
    w[3] = 0.0
    zeros = _check(x, w)
    w[3] = -0.0   # the same values, other bits: another band
    signed = _check(x, w)
    assert len(built) == 4
    numpy.testing.assert_array_equal(signed.view(numpy.uint32), _fresh(x, w).view(numpy.uint32))
    w[3] = 0.0
    numpy.testing.assert_array_equal(zeros.view(numpy.uint32), _fresh(x, w).view(numpy.uint32))


@pytest.mark.parametrize("budget", [1, 1 << 30])
def test_kept_bands_stay_within_the_budget_and_read_only(budget, monkeypatch):
    monkeypatch.setattr(_conv_depthwise, "BAND_BYTES", budget)
    monkeypatch.setattr(_conv_depthwise, "_BANDS", type(_conv_depthwise._BANDS)())
    for channels in (4, 6, 8):
        _check(*_pair(channels))
    kept = _conv_depthwise._BANDS
    assert len(kept) == (1 if budget == 1 else 3)
    assert all(not band.flags.writeable for _, band in kept.values())
    training = ember.nn.Conv2d(8, 8, 3, padding=1, groups=8)
    x = ember.randn(2, 8, 8, 8, requires_grad=True)
    training(x).square().sum().backward()   # the input gradient's band (read as kept) too
    assert x.grad is not None and training.weight.grad is not None
