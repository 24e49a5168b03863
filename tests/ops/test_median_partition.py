"""median and nanmedian (by a partitioned copy, their indices as a stable sort's) against PyTorch: values, the
indices PyTorch picks among ties and NaNs, gradients (split among ties without a dim), dtypes, layouts."""
import numpy
import pytest

import ember
from ember.ops import order_statistics as reduction

from ..oracle import check, gradcheck, noncontiguous, sample

NAN, INF = float("nan"), float("inf")


def ties(shape, dtype=numpy.float32, seed=0, nans=()):
    """Values in {0, ..., 4} (every slice full of ties), NaN where the flat index modulo 7 is in ``nans``."""
    x = numpy.random.default_rng(seed).integers(0, 5, shape).astype(dtype)
    if nans:
        x[numpy.isin(numpy.arange(x.size).reshape(shape) % 7, nans)] = NAN
    return x


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64, numpy.int64, numpy.int32, numpy.uint8])
@pytest.mark.parametrize("shape", [(7, 9), (6, 40, 5), (1, 11), (11, 1), (33,), ()])
def test_median_with_ties_matches_torch(dtype, shape):
    x = ties(shape, dtype)
    check(lambda L, x: [L.median(x, -1), x.median(0, keepdim=True), x.nanmedian(-1), x.median(), x.nanmedian()], x)


@pytest.mark.parametrize("shape", [(7, 9), (6, 40, 5), (1, 11), (33,), (4, 2)])
@pytest.mark.parametrize("nans", [(3,), (1, 2, 4, 5)])
def test_median_with_nans_matches_torch(shape, nans):
    x = ties(shape, numpy.float64, nans=nans)   # along every dim of these shapes at most 3 NaNs in a row
    for dim in range(-1, len(shape)):
        check(lambda L, x: [x.median(dim), L.nanmedian(x, dim, keepdim=True)], x)
    check(lambda L, x: [x.median(), x.nanmedian()], x)


def test_all_nan_slices():
    """nanmedian's index in an all-NaN slice is the first NaN's: PyTorch's, which its nth_element leaves, is too for
    slices of at most 3 (from 4 on it is not the first: 2 for 4, 7 for 9)."""
    x = numpy.array([[NAN, NAN, NAN], [NAN, 1.0, NAN], [2.0, NAN, 1.0]])
    check(lambda L, x: [x.median(1), x.nanmedian(1), x.nanmedian(0), x.median(), x.nanmedian()], x)
    check(lambda L, x: [x.nanmedian(), x.median()], numpy.full((3, 5), NAN))
    values, indices = ember.tensor(numpy.full((2, 9), NAN)).nanmedian(1)
    assert numpy.isnan(values.numpy()).all() and (indices.numpy() == 0).all()


def test_median_of_noncontiguous_and_16_bit_inputs():
    x = ties((9, 8, 5), numpy.float32, nans=(3,))   # no stride a multiple of 7: no slice all NaN
    for array in (noncontiguous(x), x.transpose(2, 0, 1), x[:, ::2]):
        check(lambda L, x: [x.median(1), x.nanmedian(-1), x.median(0), x.median(), x.flip(1).median(1)], array)
    for dtype in ("float16", "bfloat16"):
        check(lambda L, x: [x.to(getattr(L, dtype)).median(1), x.to(getattr(L, dtype)).nanmedian()], x, grad=False)


def test_fast_index_is_the_stable_sorts():
    """The partitioned index against the stable argsort it replaces, on every dim, ties, NaNs and both modes."""
    rng = numpy.random.default_rng(5)
    for trial in range(20):
        shape = tuple(rng.integers(1, 12, rng.integers(1, 4)))
        x = ties(shape, numpy.float64, seed=trial)
        x[rng.random(shape) < [0, 0.2, 0.7][trial % 3]] = NAN
        for axis in range(x.ndim):
            n = x.shape[axis]
            nans = numpy.isnan(x).sum(axis, keepdims=True)
            for ignore_nan, position in ((False, numpy.where(nans > 0, n - nans, (n - 1) // 2)),
                                         (True, numpy.maximum((n - nans - 1) // 2, 0))):
                stable = numpy.take_along_axis(numpy.argsort(x, axis, kind="stable"), position, axis)
                numpy.testing.assert_array_equal(reduction._median_index(x, axis, ignore_nan), stable)


def test_median_gradient_is_split_among_ties_as_torch():
    x = numpy.array([[1.0, 3, 3, 0], [3, 3, 1, 1], [2, 2, 2, 5]])
    check(lambda L, x: [x.median(), x.nanmedian(), x.median(1), x.nanmedian(0)], x)
    check(lambda L, x: [x.median(), x.nanmedian()], numpy.array([1.0, NAN, 2.0, NAN, 2.0]))
    gradcheck(lambda L, x: [x.median(), x.nanmedian(0)], sample((5, 7), numpy.float64))


def test_median_names_and_out():
    x = ember.tensor(ties((4, 5)), requires_grad=True)
    assert x.median().grad_fn.name() == "MedianBackward0"
    assert x.nanmedian().grad_fn.name() == "NanmedianBackward0"
    assert x.median(1).values.grad_fn.name() == "MedianBackward1"
    assert x.nanmedian(0, keepdim=True).values.grad_fn.name() == "NanmedianBackward1"
    values, indices = ember.empty(4), ember.empty(4, dtype=ember.int64)
    result = ember.median(x.detach(), 1, out=(values, indices))
    assert result.values is values and result.indices is indices
