"""Sorting, selection, unique and searchsorted against PyTorch: values, indices, dtypes and gradients."""
import numpy
import pytest
import torch

import ember
from tests import oracle
from tests.oracle import check, check_error, sample

F32, F64, I64, I32, U8, BOOL = numpy.float32, numpy.float64, numpy.int64, numpy.int32, numpy.uint8, numpy.bool_
F16 = numpy.float16
NAN = float("nan")

SHAPES = {"0d": (), "1d": (6,), "2d": (3, 5), "3d": (2, 3, 4), "empty": (0, 3)}


def inputs(dtype, shapes=SHAPES):
    arrays = {name: numpy.asarray(sample(shape, dtype)) for name, shape in shapes.items()}
    arrays["3d"] = oracle.noncontiguous(arrays["3d"])
    return arrays


NONEMPTY = {k: v for k, v in SHAPES.items() if k != "empty"}
ROWS = [
    ("sort", lambda L, x: [x.sort(), L.sort(x, 0), x.sort(-1, True), x.sort(dim=0, descending=True, stable=True)],
     (F32, F64, I64, U8, BOOL), SHAPES),
    ("argsort", lambda L, x: [x.argsort(), L.argsort(x, 0, True), x.argsort(dim=-1, stable=True)], (F32, I32),
     SHAPES),
    ("msort", lambda L, x: [L.msort(x), x.msort()], (F32, I64), {k: v for k, v in SHAPES.items() if k != "0d"}),
    ("topk", lambda L, x: [x.topk(1), L.topk(x, 1, 0, largest=False), x.topk(x.shape[-1] if x.ndim else 1, -1)],
     (F32, F64), NONEMPTY),   # integer samples have ties, whose topk order PyTorch leaves unspecified
    ("topk_zero", lambda L, x: [x.topk(0), x.topk(0, 0)], (F32,), SHAPES),
    ("kthvalue", lambda L, x: [x.kthvalue(1), L.kthvalue(x, 1, 0, True), x.kthvalue(x.shape[-1] if x.ndim else 1)],
     (F32, F64), NONEMPTY),   # the index PyTorch picks among tied integers is unspecified
]


def _cases():
    for name, call, dtypes, shapes in ROWS:
        for dtype in dtypes:
            for shape_name, array in inputs(dtype, shapes).items():
                yield pytest.param(call, array, id=f"{name}-{numpy.dtype(dtype).name}-{shape_name}")


@pytest.mark.parametrize("call, array", list(_cases()))
def test_matches_torch(call, array):
    check(call, array)


def test_stable_sort_keeps_tie_order():
    x = numpy.array([[3, 1, 3, 2, 1, 3], [0, 0, 0, 1, 1, 0]])
    for dtype in (I64, F32, BOOL):
        check(lambda L, x: [x.sort(dim=1, stable=True), x.sort(dim=1, descending=True, stable=True),
                            x.sort(dim=0, stable=True, descending=True), x.argsort(dim=1, stable=True)],
              x.astype(dtype))


def test_nan_sorts_as_largest():
    x = numpy.array([[1.0, NAN, -2.0, NAN, 0.5], [NAN, 3.0, 1.0, 2.0, 0.0]])
    check(lambda L, x: [x.sort(1), x.sort(1, descending=True), x.topk(2, 1), x.topk(2, 1, largest=False),
                        x.kthvalue(4, 1), x.msort()], x)


def test_topk_of_distinct_integers():
    x = numpy.random.default_rng(0).permutation(24).reshape(4, 6)
    check(lambda L, x: [x.topk(3), x.topk(2, 0, largest=False), x.topk(4, sorted=True)], x)


def test_gradients_scatter_back():
    x = sample((4, 6), F64)
    check(lambda L, x: [x.sort(0).values * 2, x.topk(3, 1).values, x.kthvalue(2, 0).values], x)


@pytest.mark.parametrize("call", [
    lambda L, x: x.sort(1).values,
    lambda L, x: x.sort(0, descending=True).values,
    lambda L, x: x.topk(2, 1).values,
    lambda L, x: x.kthvalue(3, 1, keepdim=True).values,
    lambda L, x: L.msort(x),
])
def test_gradcheck(call):
    if not hasattr(ember.autograd, "gradcheck"):
        pytest.skip("ember.autograd.gradcheck is not written yet")
    oracle.gradcheck(call, numpy.random.default_rng(2).permutation(20).reshape(4, 5) / 7.0)


def test_return_types():
    x = ember.tensor([[3.0, 1.0, 2.0]])
    for result, name in [(x.sort(), "sort"), (x.topk(2), "topk"), (x.kthvalue(1), "kthvalue")]:
        assert type(result).__name__ == name and result._fields == ("values", "indices")
        assert result.indices.dtype is ember.int64 and not result.indices.requires_grad


@pytest.mark.parametrize("array", [
    numpy.array([3, 1, 2, 3, 1, 1, 7]),
    numpy.array([[2.5, 1.0], [2.5, -1.0], [0.0, 1.0]]),
    numpy.array([True, False, True]),
    numpy.zeros(0, I64),
    numpy.array(4),
])
def test_unique(array):
    check(lambda L, x: [L.unique(x), x.unique(return_inverse=True), x.unique(return_counts=True),
                        L.unique(x, sorted=True, return_inverse=True, return_counts=True)], array, grad=False)
    check(lambda L, x: [L.unique_consecutive(x), x.unique_consecutive(return_inverse=True, return_counts=True)],
          array, grad=False)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unique_along_dim(dim):
    x = numpy.array([[1, 2, 1, 1], [3, 0, 3, 3], [1, 2, 1, 1], [1, 2, 1, 0]])
    check(lambda L, x: [L.unique(x, dim=dim), L.unique(x, return_inverse=True, return_counts=True, dim=dim),
                        L.unique_consecutive(x, return_inverse=True, return_counts=True, dim=dim)], x, grad=False)
    empty = numpy.zeros((0, 3), I64)
    if dim == 0:
        check(lambda L, x: [L.unique(x, return_inverse=True, return_counts=True, dim=dim),
                            L.unique_consecutive(x, return_inverse=True, return_counts=True, dim=dim)], empty,
              grad=False)
    else:
        check_error(lambda L, x: L.unique(x, dim=dim), empty)


def test_searchsorted_1d():
    sequence = numpy.array([1.0, 2.0, 2.0, 3.0, 5.0])
    values = numpy.array([[0.0, 2.0, 2.5], [5.0, 6.0, 3.0]])
    check(lambda L, s, v: [L.searchsorted(s, v), L.searchsorted(s, v, right=True), L.searchsorted(s, v, side="right"),
                           L.searchsorted(s, v, out_int32=True), L.searchsorted(s, 2.0), L.searchsorted(s, 2.0,
                                                                                                       right=True)],
          sequence, values, grad=False)


def test_searchsorted_batched_and_sorter():
    sequence = numpy.sort(sample((2, 3, 6), F64, seed=1), -1)
    values = sample((2, 3, 4), F64, seed=2)
    values[0, 0, :2] = sequence[0, 0, 1:3]   # exact hits exercise left versus right
    check(lambda L, s, v: [L.searchsorted(s, v), L.searchsorted(s, v, right=True)], sequence, values, grad=False)
    unsorted = numpy.array([[5, 1, 3, 2], [0, 9, 4, 4]])
    sorter = numpy.argsort(unsorted, -1, kind="stable")
    check(lambda L, s, v, o: [L.searchsorted(s, v, sorter=o), L.searchsorted(s, v, side="right", sorter=o)],
          unsorted, numpy.array([[3, 0], [4, 10]]), sorter, grad=False)


def test_bucketize():
    boundaries = numpy.array([1, 3, 5, 7, 9])
    values = numpy.array([[3, 6, 9], [0, 1, 10]])
    check(lambda L, v, b: [L.bucketize(v, b), L.bucketize(v, b, right=True), L.bucketize(v, b, out_int32=True),
                           L.bucketize(5, b)], values, boundaries, grad=False)


@pytest.mark.parametrize("call, args", [
    (lambda L, x: x.sort(2), (sample((2, 3)),)),
    (lambda L, x: x.topk(4), (sample((3,)),)),
    (lambda L, x: x.topk(2, -3), (sample((2, 3)),)),
    (lambda L, x: x.kthvalue(0), (sample((3,)),)),
    (lambda L, x: x.kthvalue(4), (sample((3,)),)),
    (lambda L, x: x.kthvalue(1, 0), (sample((0, 2)),)),
    (lambda L, s, v: L.searchsorted(s, v), (numpy.zeros((2, 3)), numpy.zeros((3, 3)))),
    (lambda L, s, v: L.searchsorted(s, v, right=True, side="left"), (numpy.zeros(3), numpy.zeros(2))),
    (lambda L, v, b: L.bucketize(v, b), (numpy.zeros(3), numpy.zeros((2, 2)))),
])
def test_errors_match_torch(call, args):
    check_error(call, *args)


def test_topk_message():
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        ember.ones(2).topk(3)


def distinct(shape, dtype, seed=0):
    """Distinct values in a random order, so the elements topk picks and their order are unique."""
    count = int(numpy.prod(shape))
    return (numpy.random.default_rng(seed).permutation(count) - count // 2).reshape(shape).astype(dtype)


@pytest.mark.parametrize("shape, k, dim", [
    ((6, 1000), 5, -1), ((6, 1000), 40, 1), ((300, 5), 3, 0), ((3, 200, 2), 7, -2), ((4, 64), 20, -1),
    ((4, 64), 32, 1), ((4, 64), 33, 1), ((4, 64), 64, -1), ((4, 64), 0, -1), ((2, 3, 400), 1, 2),
])
@pytest.mark.parametrize("dtype", [F32, F64, I64, I32])
def test_topk_partitions_match_torch(shape, k, dim, dtype):
    """k at most half the dim partitions (over strided groups' extremes first when k is much smaller); the rest
    sorts whole: the same values, indices and gradients as PyTorch either way."""
    check(lambda L, x: [x.topk(k, dim), L.topk(x, k, dim, largest=False),
                        x.topk(k, dim, sorted=False).values.sort(dim).values], distinct(shape, dtype))


def test_topk_of_a_transposed_tensor_matches_torch():
    x = oracle.noncontiguous(distinct((6, 1000), F32))
    check(lambda L, x: [x.topk(4), x.topk(3, 0, largest=False), x.t().topk(2, 0)], x)


def _assert_topk_like_torch(array, k, dim, largest):
    """PyTorch's values; indices that point at them, distinct in each slice (which of tied elements is picked is
    unspecified); the gradient flows to those indices."""
    x = ember.tensor(array, requires_grad=array.dtype.kind == "f")
    values, indices = x.topk(k, dim, largest)
    expected = torch.tensor(array).topk(k, dim, largest)
    numpy.testing.assert_array_equal(values.detach().numpy(), expected.values.numpy())
    picked = indices.numpy()
    numpy.testing.assert_array_equal(numpy.take_along_axis(array, picked, dim), values.detach().numpy())
    assert (numpy.diff(numpy.sort(picked, dim), axis=dim) > 0).all()
    if x.requires_grad:
        values.sum().backward()
        ones = numpy.zeros(array.shape, array.dtype)
        numpy.put_along_axis(ones, picked, 1, dim)
        numpy.testing.assert_array_equal(x.grad.numpy(), ones)


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("k, dim", [(3, -1), (30, 1), (400, -1), (1000, 1), (2, 0), (10, -2)])
@pytest.mark.parametrize("dtype", [F32, F16, I64, U8, numpy.int8])
def test_topk_ties_and_nans_pick_torchs_values(k, dim, largest, dtype):
    array = numpy.random.default_rng(3).integers(0, 5, (40, 1000)).astype(dtype)
    array[1] = 2
    if dtype in (F32, F16):
        array[0, ::7] = NAN
        array[2] = NAN
        array[3, :5] = NAN
    _assert_topk_like_torch(array, k, dim, largest)


@pytest.mark.parametrize("shape, k, dim", [((0, 1000), 5, 1), ((1000, 0), 0, 1), ((0, 1000), 0, 0), ((), 0, 0),
                                           ((), 1, -1), ((1000,), 1000, 0), ((1000,), 0, -1)])
def test_topk_empty_scalar_and_whole_dim_match_torch(shape, k, dim):
    check(lambda L, x: [x.topk(k, dim), x.topk(k, dim, largest=False)], distinct(shape, F32))


@pytest.mark.parametrize("n", [17, 40, 300, 3000])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "bool"])
def test_unstable_sort_orders_ties_as_torch(n, dtype):
    """``sort``/``argsort`` with ``stable=False`` put equal keys where PyTorch's CPU kernel (libstdc++'s
    ``std::sort``) puts them, ascending and descending, along either dim, NaNs included (PyG's TGN neighbour loader
    and EdgePooling depend on that order); ``stable=True`` keeps input order."""
    results = []
    for lib in (torch, ember):
        keys = lib.randint(0, 5, (3, n), generator=lib.Generator().manual_seed(n)).to(getattr(lib, dtype))
        if dtype.startswith("float"):
            keys[:, ::7] = float("nan")
        row = []
        for descending in (False, True):
            row += [lib.sort(keys, descending=descending).indices.tolist(),
                    lib.argsort(keys.t(), dim=0, descending=descending).tolist(),
                    lib.sort(keys, descending=descending, stable=True).indices.tolist(),
                    lib.sort(keys[0], descending=descending).values.double().nan_to_num(-9.0).tolist()]
        results.append(row)
    assert results[0] == results[1]


@pytest.mark.parametrize("n", [10, 40, 300, 3000])
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_topk_picks_ties_as_torch(n, dtype):
    """``topk`` chooses and orders equal values as PyTorch's CPU kernel (``std::partial_sort`` for ``k * 64 <= n``,
    else ``std::nth_element`` and ``std::sort``), largest and smallest, NaNs included."""
    results = []
    for lib in (torch, ember):
        keys = lib.randint(0, 5, (2, n), generator=lib.Generator().manual_seed(n)).to(getattr(lib, dtype))
        if dtype == "float32":
            keys[:, ::9] = float("nan")
        results.append([lib.topk(keys, k, largest=largest).indices.tolist()
                        for k in sorted({1, 2, 3, max(1, n // 64), n // 2, n}) for largest in (True, False)])
    assert results[0] == results[1]


@pytest.mark.parametrize("n", [3, 10, 40, 300])
def test_kthvalue_index_of_tied_values_as_torch(n):
    """``kthvalue`` reports, among equal k-th values, the index PyTorch's CPU quickselect leaves there."""
    results = []
    for lib in (torch, ember):
        keys = lib.randint(0, 4, (3, n), generator=lib.Generator().manual_seed(n)).float()
        keys[:, ::5] = float("nan")
        results.append([lib.kthvalue(keys, k).indices.tolist() + lib.kthvalue(keys.t(), k, dim=0).indices.tolist()
                        for k in sorted({1, 2, (n + 1) // 2, n})])
    assert results[0] == results[1]
