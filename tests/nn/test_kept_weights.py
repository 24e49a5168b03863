"""Winograd's transformed weights kept between calls (``ops._kept``): built once per weight array and again whenever
its bits change, however they are written (autograd-visible or not, one signed zero), with PyTorch's values and the
bits of a fresh transform each time; the kept arrays are read only, within their budget, and let go with their
weight; the 2x2 maps this admits match PyTorch and the columns' path, with the same bits on 1 and 3 threads."""
import gc

import numpy
import pytest
import torch

import ember
from ember.ops import _conv_dense, _conv_winograd_tiles, _kept
from tests.oracle import assert_fast_path_matches, count_calls, noncontiguous, sample

F32, F64 = numpy.float32, numpy.float64


@pytest.fixture
def kept(monkeypatch):
    """An empty store, the transforms counted (their ``_transform`` calls)."""
    monkeypatch.setattr(_kept, "_KEPT", {})
    return count_calls(monkeypatch, _conv_winograd_tiles, ("_transform", "forward"))


def _conv(lib, x, w, **options):
    with lib.no_grad():
        return lib.nn.functional.conv2d(x if isinstance(x, lib.Tensor) else lib.tensor(x), w, padding=1,
                                        **options).numpy()


def _fresh(x, w, kept):
    """The tiles' forward of arrays with nothing kept (its transform not counted in ``kept``)."""
    before, counts = dict(_kept._KEPT), dict(kept)
    _kept._KEPT.clear()
    try:
        return _conv_winograd_tiles.forward(x, w, (1, 1))
    finally:
        _kept._KEPT.clear()
        _kept._KEPT.update(before)
        kept.update(counts)


def _layer(channels=64, size=8, batch=2, dtype=F32):
    module = ember.nn.Conv2d(channels, channels, 3, padding=1, bias=False).to(ember.float64 if dtype == F64 else
                                                                              ember.float32).eval()
    x = sample((batch, channels, size, size), dtype, seed=1)
    return module, x


def _torch(x, w):
    return _conv(torch, x, torch.from_numpy(numpy.array(w)))


def _same_as_torch(got, x, w, tolerance=1e-4):
    numpy.testing.assert_allclose(got, _torch(x, w), rtol=tolerance, atol=tolerance)


@pytest.fixture(autouse=True)
def admitted(monkeypatch):
    """Small layers take the tiles (2x2 maps not the dense matrix, ``_conv_dense``)."""
    monkeypatch.setattr(_conv_winograd_tiles, "MIN_TILES", 1)
    monkeypatch.setattr(_conv_dense, "MIN_BATCH", 10 ** 9)


def test_built_once_per_weight_and_again_when_its_bits_change(kept):
    module, x = _layer()
    weight = module.weight.detach().numpy()   # the parameter's memory, written behind autograd's back below
    with ember.no_grad():
        first, again = (module(ember.tensor(x)).numpy() for _ in range(2))
    assert kept == {"forward": 2, "_transform": 1}
    numpy.testing.assert_array_equal(first, again)
    _same_as_torch(first, x, weight)
    writes = [
        lambda: module.weight.data.mul_(2),                    # in place through .data (the version counter moves)
        lambda: weight.__setitem__((3, 5, 1, 1), 0.25),        # through the shared NumPy memory (it does not)
        lambda: numpy.copyto(weight[:, :, 0], weight[:, :, 2]),
        lambda: weight.__setitem__((7, 1), 0.0),
        lambda: weight.__setitem__((7, 1), -0.0),              # the same values, another sign bit
    ]
    for count, write in enumerate(writes, start=2):
        with ember.no_grad():
            write()
        with ember.no_grad():
            got = module(ember.tensor(x)).numpy()
        assert kept["_transform"] == count and module.weight.detach().numpy() is weight
        numpy.testing.assert_array_equal(got.view(numpy.uint32), _fresh(x, weight, kept).view(numpy.uint32))
        _same_as_torch(got, x, weight)
    with ember.no_grad():
        module(ember.tensor(x))
    assert kept["_transform"] == len(writes) + 1


def test_layers_alike_in_shape_keep_one_each(kept):
    modules = [_layer()[0] for _ in range(3)]
    x = _layer()[1]
    with ember.no_grad():
        for _ in range(2):
            results = [m(ember.tensor(x)).numpy() for m in modules]
    assert kept["_transform"] == 3 and len(_kept._KEPT) == 3
    for module, got in zip(modules, results):
        _same_as_torch(got, x, module.weight.detach().numpy())


def test_kept_arrays_are_read_only_and_go_with_their_weight(kept):
    module, x = _layer()
    with ember.no_grad():
        module(ember.tensor(x))
    (entry,) = _kept._KEPT.values()
    assert not entry.result.flags.writeable and not entry.copy.flags.writeable
    del module
    gc.collect()
    assert _kept._KEPT == {}


@pytest.mark.parametrize("budget,stale,expected", [(0, 1000, 0), (1 << 30, 1000, 3), ("two", 1000, 2),
                                                   ("two", 1, 2)])
def test_within_the_budget(budget, stale, expected, kept, monkeypatch):
    """A full store keeps no new entry (a model larger than the budget keeps its first layers rather than each call
    evicting the next one's), unless older entries have gone unused for ``STALE_CALLS`` calls."""
    modules = [_layer()[0] for _ in range(3)]
    x = _layer()[1]
    if budget == "two":   # room for two layers' entries
        w = modules[0].weight.detach().numpy()
        budget = 2 * (w.nbytes + w.nbytes * 16 // 9)
    monkeypatch.setattr(_kept, "MAX_BYTES", budget)
    monkeypatch.setattr(_kept, "STALE_CALLS", stale)
    with ember.no_grad():
        for module in modules:
            _same_as_torch(module(ember.tensor(x)).numpy(), x, module.weight.detach().numpy())
    held = [id(e.owner()) for e in _kept._KEPT.values()]
    assert len(held) == expected
    assert sum(e.copy.nbytes + e.result.nbytes for e in _kept._KEPT.values()) <= budget
    if expected == 2:   # the third layer made room by dropping the stale first, or was not kept
        wanted = modules[1:] if stale == 1 else modules[:2]
        assert sorted(held) == sorted(id(m.weight.detach().numpy()) for m in wanted)


@pytest.mark.parametrize("by_memcmp", [True, False], ids=["memcmp", "numpy"])
def test_bits_compared_exactly(by_memcmp, monkeypatch):
    if by_memcmp:
        assert _kept._MEMCMP is not None   # the C library's, on the platforms the tests run on
    else:
        monkeypatch.setattr(_kept, "_MEMCMP", None)
    big = sample((64, 64, 3, 3), F32)
    other = big.copy()
    assert _kept._same_bits(big, other)
    other.reshape(-1)[-1] = numpy.nextafter(other.reshape(-1)[-1], F32(numpy.inf))   # the last byte's item only
    assert not _kept._same_bits(big, other)
    assert _kept._same_bits(numpy.empty((0, 3), F32), numpy.empty((0, 3), F32))
    a = numpy.array([0.0, 1.0, numpy.nan], F32)
    b = a.copy()
    assert _kept._same_bits(a, b)
    b[0] = -0.0
    assert not _kept._same_bits(a, b)
    c = a.copy()
    c.view(numpy.uint32)[2] ^= 1   # another NaN payload
    assert numpy.isnan(c[2]) and not _kept._same_bits(a, c)
    assert _kept._same_bits(noncontiguous(numpy.eye(3)), numpy.eye(3))


def test_training_keeps_nothing(kept):
    """A weight gradient follows: the columns' path (nothing kept), PyTorch's gradients."""
    module, x = _layer()
    xt = ember.tensor(x, requires_grad=True)
    module(xt).square().sum().backward()
    assert kept == {} and _kept._KEPT == {}


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("shape", [(32, 256, 2, 2), (1, 64, 2, 2), (3, 64, 3, 2), (2, 64, 4, 4)],
                         ids=["resnet-2x2", "batch-1", "odd", "4x4"])
def test_small_maps_match_torch(shape, dtype, kept, monkeypatch):
    monkeypatch.setattr(_conv_winograd_tiles, "MIN_COVER", 0)
    tolerance = 1e-4 if dtype == F32 else 1e-10
    x, w = sample(shape, dtype, seed=2), sample((shape[1],) * 2 + (3, 3), dtype, seed=3) / (3 * shape[1])
    for source, weight in ((x, w), (noncontiguous(x), noncontiguous(w))):
        weight_tensor = ember.from_numpy(weight)
        got = [_conv(ember, source, weight_tensor) for _ in range(2)]
        assert got[0].dtype == dtype
        numpy.testing.assert_array_equal(got[0], got[1])
        numpy.testing.assert_allclose(got[0], _conv(torch, source, torch.tensor(weight)), rtol=tolerance,
                                      atol=tolerance)
    assert kept["forward"] == 4


@pytest.mark.parametrize("threads", [1, 3])
def test_the_resnet_2x2_layer_matches_the_columns_path(threads, monkeypatch):
    """At the default thresholds (32 tiles), ResNet-18 32x32's 256-channel 2x2 layer: the columns' values to float64
    round-off and the same bits on any number of threads, the transform kept or built."""
    monkeypatch.undo()
    monkeypatch.setattr(_kept, "_KEPT", {})
    monkeypatch.setattr(_conv_dense, "MIN_BATCH", 10 ** 9)
    monkeypatch.setattr(ember.ops._parallel, "MIN_ELEMENTS", 64)
    monkeypatch.setattr(ember.ops._blas, "SPLIT_WORK", 1 << 10)
    calls = count_calls(monkeypatch, _conv_winograd_tiles, ("forward",))
    x, w = sample((32, 256, 2, 2), F64, seed=4), ember.tensor(sample((256, 256, 3, 3), F64, seed=5) / 768)

    def run(tiles):
        monkeypatch.setattr(_conv_winograd_tiles, "MIN_CHANNELS", 64 if tiles else 10 ** 9)
        return [_conv(ember, x, w) for _ in range(2)]
    assert_fast_path_matches(run, threads, calls, {"forward": 2})


def test_threads_share_the_store(kept):
    """Python threads evaluating layers at once (building, finding and replacing entries) get each layer's values."""
    import threading
    modules = [_layer()[0] for _ in range(3)]
    x = _layer()[1]
    with ember.no_grad():
        expected = [m(ember.tensor(x)).numpy() for m in modules]
    results, errors = {}, []

    def run(k):
        try:
            with ember.no_grad():
                for i in range(6):
                    results[k, i] = modules[(k + i) % 3](ember.tensor(x)).numpy()
        except BaseException as error:   # noqa: BLE001 (raised by the test below)
            errors.append(error)
    threads = [threading.Thread(target=run, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 18
    for (k, i), got in results.items():
        numpy.testing.assert_array_equal(got, expected[(k + i) % 3])
