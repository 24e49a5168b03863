"""cumsum, cumprod, cummax and cummin on the shapes that take each path of cumulative._scan (a loop over positions
along a leading axis, blocks along a last one, NumPy's accumulate) against PyTorch: values, dtypes, indices,
gradients; and _scan itself against numpy.<ufunc>.accumulate."""
import numpy
import pytest
import torch

import ember
from ember.ops import cumulative

from ..oracle import check, gradcheck, noncontiguous, sample

NAN, INF = float("nan"), float("inf")
UFUNCS = ["add", "multiply", "maximum", "minimum"]

# (shape, dim, path): the path _scan takes for a 4-byte float's max or min (sums and products take no blocks)
CASES = [((40, 300), 0, "positions"), ((20, 30, 20), 1, "positions"), ((3, 37), 1, "blocks"), ((1000,), 0, "blocks"),
         ((2, 16), -1, "blocks"), ((5, 200, 1), 1, "blocks"), ((3, 16, 5), 1, "accumulate"), ((4, 15), 1, "accumulate"),
         ((300, 2), 0, "accumulate"), ((1, 40), 0, "accumulate")]


@pytest.mark.parametrize("shape, dim, path", CASES)
def test_cases_take_the_path_they_name(monkeypatch, shape, dim, path):
    taken = []
    for name in ("positions", "blocks"):
        original = getattr(cumulative, "_scan_" + name)
        monkeypatch.setattr(cumulative, "_scan_" + name,
                            lambda *args, name=name, original=original: taken.append(name) or original(*args))
    cumulative._scan("maximum", numpy.ones(shape, numpy.float32), dim % len(shape))
    assert (taken or ["accumulate"])[0] == path
    if path != "accumulate":   # 8-byte floats scan in blocks no faster than NumPy's accumulate
        taken.clear()
        cumulative._scan("maximum", numpy.ones(shape), dim % len(shape))
        assert (taken or ["accumulate"])[0] == ("positions" if path == "positions" else "accumulate")


@pytest.mark.parametrize("name", UFUNCS)
@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64, numpy.int32, numpy.int64, numpy.float16])
@pytest.mark.parametrize("shape, dim, path", CASES)
def test_scan_matches_numpy_accumulate(name, dtype, shape, dim, path):
    low, high = (0.9, 1.1) if name == "multiply" and numpy.dtype(dtype).kind == "f" else (-3, 3)
    a = sample(shape, numpy.float64 if numpy.dtype(dtype).kind == "f" else dtype, low, high).astype(dtype)
    with numpy.errstate(over="ignore"):
        ours, theirs = cumulative._scan(name, a, dim % a.ndim), getattr(numpy, name).accumulate(a, dim, a.dtype)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    numpy.testing.assert_array_equal(ours, theirs)   # sums and products in NumPy's order: the same bits


@pytest.mark.parametrize("name", UFUNCS)
def test_scan_of_noncontiguous_and_nonfinite_inputs(name):
    a = sample((30, 40), numpy.float32, 0.9, 1.1)
    a[3, 5], a[7, 20], a[9, 33], a[11, 0] = NAN, INF, -INF, 0.0
    for array in (a.T, a[:, ::2], a[::-1], noncontiguous(a)):
        for axis in (0, 1):
            numpy.testing.assert_allclose(cumulative._scan(name, array, axis), getattr(numpy, name).accumulate(array,
                                                                                                                axis),
                                          rtol=1e-5, equal_nan=True)


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
@pytest.mark.parametrize("shape, dim, path", CASES)
def test_cumsum_and_cumprod_match_torch(dtype, shape, dim, path):
    tolerance = {"rtol": 1e-4, "atol": 1e-4} if dtype == numpy.float32 else {}
    check(lambda L, x: [L.cumsum(x, dim), x.cumsum(dim, dtype=L.float64)], sample(shape, dtype), **tolerance)
    check(lambda L, x: L.cumprod(x, dim), sample(shape, dtype, 0.9, 1.1), **tolerance)


@pytest.mark.parametrize("dtype", ["float32", "complex64", "float16"])
@pytest.mark.parametrize("shape, dim, path", CASES[:4])
def test_float_scans_accumulate_wide_and_round_once_as_torch(dtype, shape, dim, path):
    """PyTorch's CPU scans accumulate float32 in float64 (complex64 in complex128, 16-bit floats in float32) and
    round each output once: the same bits, which a float32 running product (diffusers' alphas_cumprod) lacks."""
    x = torch.rand(shape, generator=torch.Generator().manual_seed(0), dtype=torch.float32) * 0.2 + 0.9
    if dtype == "complex64":
        x = torch.polar(x, x)
    x = x.to(getattr(torch, dtype))
    ours_x = ember.from_numpy(x.numpy().copy())
    for name, extra in (("cumsum", {}), ("cumprod", {}), ("logcumsumexp", {}), ("cumsum", {"dtype": "float32"})):
        if dtype == "complex64" and (name == "logcumsumexp" or extra):
            continue
        theirs = getattr(torch, name)(x, dim, **{k: getattr(torch, v) for k, v in extra.items()})
        ours = getattr(ember, name)(ours_x, dim, **{k: getattr(ember, v) for k, v in extra.items()})
        numpy.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=f"{name} {extra}")


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64, numpy.int32, numpy.int64, numpy.bool_])
@pytest.mark.parametrize("shape, dim, path", CASES)
def test_cummax_and_cummin_match_torch(dtype, shape, dim, path):
    x = sample(shape, dtype, -2, 2)   # ints in [-2, 2): many ties, whose index PyTorch moves forward
    check(lambda L, x: [L.cummax(x, dim), x.cummin(dim)], x)


def test_cummax_indices_from_few_new_extremes_along_a_last_axis():
    x = sample((4, 500), numpy.float64)   # few new extremes: their runs give the indices
    x[0, 100], x[1, 250], x[2, 30], x[3, 400] = x[0, :100].max(), x[1, :250].max(), NAN, -x[3, :400].min()
    x[3, 401:420] = -x[3, :400].min()   # ties to the running max (min after negation) move the index forward
    assert numpy.count_nonzero(x == numpy.fmax.accumulate(x, 1)) * 16 <= x.size
    check(lambda L, x: [L.cummax(x, 1), L.cummin(-x, -1), L.cummax(x[:, :40], 1)], x)


@pytest.mark.parametrize("dtype", [numpy.int32, numpy.uint8, numpy.bool_])
def test_integer_cumsum_and_cumprod_are_int64(dtype):
    x = sample((3, 40), dtype, 0, 3)
    check(lambda L, x: [x.cumsum(1), x.cumsum(0), L.cumprod(x, 1), x.cumprod(0, dtype=L.float32)], x)


@pytest.mark.parametrize("dim", [0, 1])
def test_nonfinite_signed_zeros_and_noncontiguous_inputs(dim):
    x = sample((24, 40), numpy.float32)
    x[2, 3], x[5, 17], x[9, 30], x[12, 0], x[13, 0], x[14, 20] = NAN, INF, -INF, 0.0, -0.0, -0.0
    x[:, 21], x[3, :] = 0.0, -0.0
    for array in (x, noncontiguous(x), x.T.copy().T, x[:, ::-1].copy()):
        check(lambda L, x: [L.cumsum(x, dim), L.cummax(x, dim), L.cummin(x, -1 if dim else 0)], array, grad=False)
    t = torch.tensor([[0.0, -0.0, 0.0] * 8, [-0.0, 0.0, -0.0] * 8])
    for op in ("cummax", "cummin"):
        ours, theirs = getattr(ember.tensor(t.numpy()), op)(1), getattr(t, op)(1)
        numpy.testing.assert_array_equal(numpy.signbit(ours.values.numpy()), numpy.signbit(theirs.values.numpy()))
        numpy.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())


@pytest.mark.parametrize("shape, dim", [((0, 40), 1), ((40, 0), 0), ((1, 40), 1), ((40, 1), 0), ((300, 1), 0),
                                        ((1, 300), 1), ((), 0)])
def test_edge_shapes(shape, dim):
    check(lambda L, x: [L.cumsum(x, dim), L.cumprod(x, dim), L.cummax(x, dim), L.cummin(x, dim)],
          sample(shape, numpy.float32, 0.9, 1.1))


def test_cumprod_with_zeros_takes_its_exact_gradient():
    x = sample((4, 20), numpy.float64, 0.5, 1.5)
    x[1, 3] = x[2, 7] = x[2, 12] = 0.0
    check(lambda L, x: [L.cumprod(x, 1), L.cumprod(x, 0)], x)


def test_gradients_by_finite_differences():
    for shape, dim in [((20, 18), 0), ((3, 37), 1), ((17, 16, 2), 1)]:
        gradcheck(lambda L, x: [L.cumsum(x, dim), L.cumprod(x, dim), L.cummax(x, dim).values], sample(shape,
                                                                                                   numpy.float64,
                                                                                                   0.5, 1.5))


def test_node_names():
    x = ember.ones(3, 40, requires_grad=True)
    assert x.cummax(1).values.grad_fn.name() == "CummaxBackward0"
    assert ember.cummin(x, 0).values.grad_fn.name() == "CumminBackward0"
    assert ember.tensor(1.0, requires_grad=True).cummax(0).values.grad_fn.name() == "CummaxBackward0"
