"""Searching and counting, as a second differential sweep against PyTorch 2.13 found them: searchsorted/bucketize in
sequences holding NaN follow PyTorch's binary search, histc refuses a non-finite data range, histogram takes 16-bit
floats where it reads no range from the data, bincount's empty input and 16-bit weights; each case run on both."""
import pytest
import torch

import ember

NAN = float("nan")


def outcome(fn, lib):
    """What ``fn(lib)`` gives: tensors' dtypes and values, or the exception's type and message."""
    try:
        result = fn(lib)
    except Exception as error:   # noqa: BLE001 - the error is the result compared
        return type(error).__name__, str(error).replace("-nan", "nan")
    results = result if isinstance(result, tuple) else (result,)
    return [(str(r.dtype).split(".")[1], r.tolist()) for r in results]


def check(fn):
    assert outcome(fn, ember) == outcome(fn, torch)


SEQUENCES = [[-1.0, 1.0, 1.0, 2.0, NAN, NAN, NAN], [NAN, 1.0, NAN, -1.0, 2.0], [NAN], [0.0, NAN, 2.0],
             [1.0, 2.0, 3.0]]
VALUES = [1.0, 2.5, 0.0, NAN, 3.0, -5.0, 2.0]


@pytest.mark.parametrize("sequence", SEQUENCES)
@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_searchsorted_with_nan(sequence, side, dtype):
    def fn(L):
        d = getattr(L, dtype)
        return L.searchsorted(L.tensor(sequence, dtype=d), L.tensor(VALUES, dtype=d), side=side)
    check(fn)
    check(lambda L: L.bucketize(L.tensor(VALUES).reshape(1, -1), L.tensor(sequence), right=side == "right"))
    check(lambda L: L.searchsorted(L.tensor(sequence), 2.0, side=side))


@pytest.mark.parametrize("side", ["left", "right"])
def test_searchsorted_with_nan_batched_and_sorter(side):
    check(lambda L: L.searchsorted(L.tensor([SEQUENCES[0], SEQUENCES[0][::-1]]), L.tensor([VALUES, VALUES]),
                                   side=side))
    check(lambda L: L.searchsorted(L.tensor(SEQUENCES[1]), L.tensor(VALUES), sorter=L.tensor([3, 1, 4, 0, 2]),
                                   side=side))


@pytest.mark.parametrize("data", [[NAN, 1.0, 2.0], [float("inf"), 1.0, 2.0], [-float("inf"), 0.0], [1.0, 2.0]])
def test_histc_refuses_a_non_finite_range(data):
    check(lambda L: L.histc(L.tensor(data), bins=3))
    check(lambda L: L.histc(L.tensor(data), bins=3, min=0, max=3))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_histogram_of_16_bit_floats(dtype):
    data = [3.0, 1.0, 2.0, 1.0, 3.0, 2.0, 1.0, 0.4]
    check(lambda L: tuple(L.histogram(L.tensor(data, dtype=getattr(L, dtype)), bins=3)))
    check(lambda L: tuple(L.histogram(L.tensor(data, dtype=getattr(L, dtype)), bins=3, range=(0.0, 3.0),
                                      weight=L.ones(8, dtype=getattr(L, dtype)), density=True)))
    check(lambda L: tuple(L.histogram(L.tensor(data, dtype=getattr(L, dtype)),
                                      bins=L.tensor([0.0, 1.0, 2.5, 3.0], dtype=getattr(L, dtype)))))
    check(lambda L: (lambda r: (r.hist, *r.bin_edges))(L.histogramdd(
        L.tensor(data, dtype=getattr(L, dtype)).reshape(4, 2), bins=[2, 2], range=[0.0, 3.0, 0.0, 3.0])))


@pytest.mark.parametrize("weights", [None, "float16", "bfloat16", "float32", "float64", "int32"])
@pytest.mark.parametrize("data", [[], [1, 1, 3]])
@pytest.mark.parametrize("minlength", [0, 5])
def test_bincount_dtypes(weights, data, minlength):
    def fn(L):
        w = None if weights is None else L.tensor([0.5, 0.25, 2.0][:len(data)], dtype=getattr(L, weights))
        return L.bincount(L.tensor(data, dtype=L.int64), weights=w, minlength=minlength)
    check(fn)
    check(lambda L: L.bincount(L.tensor([], dtype=L.int64), weights=L.ones(3)))
