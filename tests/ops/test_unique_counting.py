"""unique without ``dim`` of integers over a narrow range, made unique by counting (``sorting._unique_by_counting``):
values, inverse and counts against torch for every integer dtype and bool, negative offsets, spans on either side of
the cut-over, empty, 0-d and one-element inputs, and the sorting path it leaves to."""
import numpy
import pytest
import torch

import ember
from ember.ops import sorting

FLAGS = [dict(), dict(return_inverse=True), dict(return_counts=True), dict(return_inverse=True, return_counts=True)]


def _same(array, **flags):
    got = ember.unique(ember.tensor(array), **flags)
    want = torch.unique(torch.from_numpy(array), **flags)
    got, want = (r if isinstance(r, tuple) else (r,) for r in (got, want))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == tuple(w.shape) and g.numpy().dtype == w.numpy().dtype
        numpy.testing.assert_array_equal(g.numpy(), w.numpy())


@pytest.mark.parametrize("flags", FLAGS)
@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int16", "int32", "int64"])
def test_narrow_integers_match_torch(dtype, flags):
    rng = numpy.random.default_rng(0)
    info = numpy.iinfo(dtype) if dtype != "bool" else None
    for shape in [(0,), (), (1,), (7,), (3, 5, 7), (2001,)]:
        if dtype == "bool":
            array = rng.integers(0, 2, shape).astype(bool)
        else:
            array = rng.integers(max(info.min, -50), min(info.max, 70), shape).astype(dtype)
        _same(array, **flags)


@pytest.mark.parametrize("flags", FLAGS)
def test_spans_either_side_of_the_cut_over_and_uint64(flags):
    rng = numpy.random.default_rng(1)
    count = 10_000
    narrow = rng.integers(-count, count, count) + 3 * 2 ** 40   # span 2 * count: counted
    wide = numpy.append(narrow, 2 ** 50)   # beyond: sorted
    for array in (narrow, wide, rng.integers(0, 2 ** 63, 50, dtype=numpy.uint64),
                  numpy.array([2 ** 64 - 1, 0, 5], dtype=numpy.uint64),
                  numpy.array([2 ** 64 - 1, 2 ** 64 - 3, 2 ** 64 - 1], dtype=numpy.uint64),
                  numpy.array([-128, 127, 0, -128], dtype=numpy.int8), numpy.array([255, 0, 7], dtype=numpy.uint8),
                  numpy.array([-2 ** 63, -2 ** 63 + 2], dtype=numpy.int64), narrow[:, None].repeat(3, 1)[::2, 1]):
        _same(array, **flags)
    assert sorting._unique_by_counting(numpy, narrow, True, True) is not None
    assert sorting._unique_by_counting(numpy, wide, True, True) is None


def test_floats_keep_the_sorting_path():
    array = numpy.array([2.0, numpy.nan, -0.0, 1.0, numpy.nan, 2.0])
    assert sorting._unique_by_counting(numpy, array, True, True) is None
    got = ember.unique(ember.tensor(array), return_inverse=True, return_counts=True)
    want = torch.unique(torch.from_numpy(array), return_inverse=True, return_counts=True)
    for g, w in zip(got, want):
        numpy.testing.assert_array_equal(g.numpy(), w.numpy())
