"""Wide 3x3 convolutions over odd maps that the exact tiles cover with fewer than ``MIN_COVER`` of their outputs
(ResNet-18-224's 512-channel 7x7 layers in an evaluation) take the tiles where C O / (C + O) reaches
``_conv_winograd_tiles.WIDE``, with ``WIDE_MIN_TILES`` tiles and ``WIDE_COVER``: which shapes do, PyTorch's values in
float32 and float64 (a bias, batch 4, padding 0 and 1), the columns' values to float64 round-off with the same bits
on 1 and 3 threads. Wide ones over 10x10 to 16x16 maps take the tiles before ``_conv_winograd``'s grid
(``GRID_CHANNELS``); odd ones only while the transform is kept."""
import numpy
import pytest
import torch

import ember
from ember.ops import _conv_winograd_tiles, _kept
from tests.oracle import assert_fast_path_matches, count_calls, sample

F32, F64 = numpy.float32, numpy.float64


@pytest.mark.parametrize("x_shape,w_shape,padding,taken", [
    ((8, 512, 7, 7), (512, 512, 3, 3), 1, True),     # ResNet-18-224's last stage: 49 of 64 outputs
    ((4, 512, 7, 7), (512, 512, 3, 3), 1, True),     # 64 tiles
    ((2, 512, 7, 7), (512, 512, 3, 3), 1, False),    # 32 tiles
    ((8, 512, 7, 7), (256, 512, 3, 3), 1, True),     # C O / (C + O) 171
    ((8, 256, 7, 7), (256, 256, 3, 3), 1, False),    # 128
    ((8, 512, 5, 5), (512, 512, 3, 3), 1, False),    # 25 of 36 outputs
    ((8, 512, 9, 9), (512, 512, 3, 3), 1, True),     # 81 of 100: MIN_COVER's
    ((8, 512, 9, 9), (512, 512, 3, 3), 0, True),     # 7x7 output
])
def test_which_shapes_take_the_tiles(x_shape, w_shape, padding, taken):
    assert _conv_winograd_tiles.applies(numpy, w_shape, (1, 1), (padding,) * 2, (1, 1), 1, x_shape, F32) is taken


def _conv(lib, x, w, bias=None, padding=1):
    with lib.no_grad():
        args = [lib.tensor(a) for a in (x, w) + (() if bias is None else (bias,))]
        return lib.nn.functional.conv2d(*args, padding=padding).numpy()


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
def test_matches_torch(dtype, monkeypatch):
    calls = count_calls(monkeypatch, _conv_winograd_tiles, ("forward",))
    tolerance = 2e-4 if dtype == F32 else 1e-10
    x, w = sample((4, 320, 7, 7), dtype, seed=1), sample((320, 320, 3, 3), dtype, seed=2) / 30
    b = sample((320,), dtype, seed=3)
    for bias, padding, source in ((None, 1, x), (b, 1, x), (None, 0, numpy.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))))):
        got, want = (_conv(lib, source, w, bias, padding) for lib in (ember, torch))
        assert got.dtype == want.dtype and got.shape == want.shape == (4, 320, 7, 7)
        numpy.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)
    assert calls == {"forward": 3}


@pytest.mark.parametrize("threads", [1, 3])
def test_matches_the_columns(threads, monkeypatch):
    monkeypatch.setattr(ember.ops._parallel, "MIN_ELEMENTS", 64)
    x, w = sample((4, 320, 7, 7), F64, seed=4), sample((320, 320, 3, 3), F64, seed=5) / 30
    calls = count_calls(monkeypatch, _conv_winograd_tiles, ("forward",))

    def run(fast):
        monkeypatch.setattr(_conv_winograd_tiles, "WIDE", 160 if fast else 10 ** 9)
        return [_conv(ember, x, w)]
    assert_fast_path_matches(run, threads, calls, {"forward": 1})


@pytest.mark.parametrize("x_shape,w_shape,tiles", [
    ((1, 160, 12, 12), (160, 160, 3, 3), True),    # C O / (C + O) 80: the tiles before _conv_winograd's grid
    ((1, 128, 12, 12), (256, 128, 3, 3), True),    # 85
    ((1, 128, 12, 12), (128, 128, 3, 3), False),   # 64: _conv_winograd's grid
])
def test_wide_maps_both_winograds_take(x_shape, w_shape, tiles, monkeypatch):
    """Maps of 10x10 to 16x16 that ``_conv_winograd`` takes from 128 channels: wide layers' forwards with no weight
    gradient take the tiles instead, with PyTorch's values; a weight gradient keeps the grid (it keeps its transformed
    input for the weight gradient)."""
    calls = count_calls(monkeypatch, _conv_winograd_tiles, ("forward",))
    grids = count_calls(monkeypatch, ember.ops._conv_winograd, ("forward",))
    x, w = sample(x_shape, F64, seed=6), sample(w_shape, F64, seed=7) / 30
    got, want = (_conv(lib, x, w) for lib in (ember, torch))
    numpy.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    assert (calls, grids) == (({"forward": 1}, {}) if tiles else ({}, {"forward": 1}))
    wt = ember.tensor(w, requires_grad=True)
    ember.nn.functional.conv2d(ember.tensor(x), wt, padding=1).sum().backward()
    assert grids == {"forward": 1 + (not tiles)}


@pytest.mark.parametrize("threads", [1, 3])
def test_wide_maps_match_the_grid(threads, monkeypatch):
    monkeypatch.setattr(ember.ops._parallel, "MIN_ELEMENTS", 64)
    x, w = sample((2, 160, 14, 14), F64, seed=8), sample((160, 160, 3, 3), F64, seed=9) / 30
    calls = count_calls(monkeypatch, _conv_winograd_tiles, ("forward",))

    def run(fast):
        monkeypatch.setattr(_conv_winograd_tiles, "GRID_CHANNELS", 80 if fast else 10 ** 9)
        return [_conv(ember, x, w)]
    assert_fast_path_matches(run, threads, calls, {"forward": 1})


def test_a_non_finite_weight_takes_the_columns_until_it_is_finite(monkeypatch):
    """The weight is checked once per weight bits, when its transform is built: an infinity in it gives PyTorch's
    values by the columns (NaNs only where its taps reach), and the weight made finite again in place takes the tiles."""
    monkeypatch.setattr(_kept, "_KEPT", {})
    calls = count_calls(monkeypatch, _conv_winograd_tiles, ("forward", "_transform"))
    x, w = sample((4, 64, 8, 8), F64, seed=10), sample((64, 64, 3, 3), F64, seed=11) / 30
    weights = [lib.tensor(w) for lib in (ember, torch)]
    for value in (numpy.inf, numpy.inf, 0.5, 0.5):
        for weight in weights:
            weight.numpy()[5, 7, 0, 2] = value   # through the shared memory
        got, want = (lib.nn.functional.conv2d(lib.tensor(x), weight, padding=1).numpy()
                     for lib, weight in zip((ember, torch), weights))
        numpy.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)   # NaNs and infinities in the same places
        assert bool(numpy.isfinite(got).all()) is (value == 0.5)
    assert calls == {"forward": 4, "_transform": 1}


def test_wide_odd_maps_take_the_tiles_only_while_the_transform_is_kept(monkeypatch):
    """Rebuilt every call, the transform costs more than the odd map's tiles save: with ``_kept``'s budget spent, a
    7x7 map takes the columns (PyTorch's values); an 8x8 one (all of its tiles' outputs used) keeps the tiles."""
    monkeypatch.setattr(_kept, "_KEPT", {})
    calls = count_calls(monkeypatch, _conv_winograd_tiles, ("forward",))
    x, w = sample((4, 320, 7, 7), F32, seed=12), sample((320, 320, 3, 3), F32, seed=13) / 30
    monkeypatch.setattr(_kept, "MAX_BYTES", 1 << 20)
    for source in (x, numpy.pad(x, ((0, 0), (0, 0), (0, 1), (0, 1)))):
        got, want = (_conv(lib, source, w) for lib in (ember, torch))
        numpy.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-4)
    assert calls == {"forward": 1} and _kept._KEPT == {}   # the 8x8 map's, built and not kept
    monkeypatch.setattr(_kept, "MAX_BYTES", 1 << 27)
    weight = ember.tensor(w)   # one weight array: its entry lives as long as it does
    with ember.no_grad():
        got = ember.nn.functional.conv2d(ember.tensor(x), weight, padding=1).numpy()
    numpy.testing.assert_allclose(got, _conv(torch, x, w), rtol=2e-4, atol=2e-4)
    assert calls == {"forward": 2} and len(_kept._KEPT) == 1
