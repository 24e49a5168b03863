"""Reductions against PyTorch: values, dtypes, shapes and gradients over a table of ops and sample inputs."""
import math

import numpy
import pytest
from hypothesis import given, settings, strategies as st

import ember
from tests import oracle
from tests.oracle import check, check_error, sample

F32, F64, I64, I32, U8, BOOL = numpy.float32, numpy.float64, numpy.int64, numpy.int32, numpy.uint8, numpy.bool_
NAN, INF = float("nan"), float("inf")

# Sample inputs: 0-d, 1-d, 2-d, 3-d non-contiguous and empty.
SHAPES = {"0d": (), "1d": (5,), "2d": (3, 4), "3d": (2, 3, 4), "empty": (0, 3)}


def inputs(dtype, shapes=SHAPES, seed=0):
    """One array per sample shape; the 3-d one non-contiguous."""
    arrays = {name: numpy.asarray(sample(shape, dtype, seed=seed)) for name, shape in shapes.items()}
    if "3d" in arrays:
        arrays["3d"] = oracle.noncontiguous(arrays["3d"])
    return arrays


def with_ties(dtype):
    """A 2-d array with repeated values in every row and column."""
    return numpy.array([[1, 3, 3, 0], [2, 2, 1, 2], [3, 0, 3, 3]], dtype=dtype)


def both(x):
    """Two distinct dims of ``x`` when it has them (the first and last), else just the last."""
    return (0, -1) if x.ndim >= 2 else (-1,)


# One row per op: (id, call, dtypes, shapes it supports). Each call is run on every sample of every dtype.
ALL_DIMS = [None, 0, -1, (0, -1)]
ROWS = [
    ("sum", lambda L, x: [x.sum(), L.sum(x, 0), x.sum(-1, keepdim=True), x.sum(both(x)), x.sum([])],
     (F32, F64, I64, U8, BOOL), SHAPES),
    ("sum_dtype", lambda L, x: [x.sum(dtype=L.float64), L.sum(x, -1, dtype=L.float32)], (F32, I32), SHAPES),
    ("mean", lambda L, x: [x.mean(), L.mean(x, 0), x.mean(-1, keepdim=True), x.mean(both(x))], (F32, F64), SHAPES),
    ("mean_dtype", lambda L, x: [x.mean(dtype=L.float64), L.mean(x, -1, dtype=L.float32)], (F32, I64), SHAPES),
    ("prod", lambda L, x: [x.prod(), L.prod(x, 0), x.prod(-1, keepdim=True), x.prod(0, dtype=L.float64)],
     (F32, F64, I64, BOOL), SHAPES),
    ("amax", lambda L, x: [x.amax(), L.amax(x, -1), x.amax(both(x), keepdim=True)], (F32, F64, I64, BOOL),
     {k: v for k, v in SHAPES.items() if k != "empty"}),
    ("amin", lambda L, x: [x.amin(), L.amin(x, 0, True), x.amin(both(x))], (F32, I32), {k: v for k, v in SHAPES.items()
                                                                                      if k != "empty"}),
    ("amax_empty", lambda L, x: [x.amax(1), x.amin(-1, keepdim=True)], (F32,), {"empty": (0, 3)}),
    ("max", lambda L, x: [x.max(), L.max(x, 0), x.max(-1, keepdim=True), x.max(dim=0, keepdim=False)],
     (F32, F64, I64, BOOL), {k: v for k, v in SHAPES.items() if k != "empty"}),
    ("min", lambda L, x: [x.min(), L.min(x, -1), x.min(0, True)], (F32, I64), {k: v for k, v in SHAPES.items()
                                                                              if k != "empty"}),
    ("max_empty", lambda L, x: [x.max(1), L.min(x, -1, keepdim=True)], (F32,), {"empty": (0, 3)}),
    ("aminmax", lambda L, x: [L.aminmax(x), x.aminmax(dim=-1), x.aminmax(dim=0, keepdim=True)], (F32, I64),
     {k: v for k, v in SHAPES.items() if k != "empty"}),
    ("argmax", lambda L, x: [x.argmax(), L.argmax(x, 0), x.argmax(-1, keepdim=True), x.argmax(keepdim=True)],
     (F32, I64), {k: v for k, v in SHAPES.items() if k != "empty"}),
    ("argmin", lambda L, x: [x.argmin(), L.argmin(x, -1), x.argmin(0, True)], (F32, U8),
     {k: v for k, v in SHAPES.items() if k != "empty"}),
    ("var", lambda L, x: [x.var(), L.var(x, 0), x.var(-1, keepdim=True, correction=0), x.var(both(x), unbiased=False),
                          x.var(False)], (F32, F64), {k: v for k, v in SHAPES.items() if k in ("2d", "3d")}),
    ("std", lambda L, x: [x.std(), L.std(x, -1), x.std(-1, correction=2, keepdim=True), x.std(0, True, True)],
     (F32, F64), {k: v for k, v in SHAPES.items() if k in ("2d", "3d")}),
    ("var_mean", lambda L, x: [L.var_mean(x), L.var_mean(x, -1, keepdim=True), L.std_mean(x, 0, correction=0),
                               L.std_mean(x)], (F64,), {k: v for k, v in SHAPES.items() if k in ("2d", "3d")}),
    ("norm", lambda L, x: [x.norm(), L.norm(x, 2, -1), x.norm(1, 0, keepdim=True), x.norm(INF), x.norm(-INF, -1),
                           x.norm(3, both(x)), x.norm(0.5), x.norm("fro", 0)], (F32, F64),
     {k: v for k, v in SHAPES.items() if k != "empty"}),
    ("norm_empty", lambda L, x: [x.norm(), x.norm(1, 0), x.norm(INF, 1)], (F32,), {"empty": (0, 3)}),
    ("logsumexp", lambda L, x: [x.logsumexp(0), L.logsumexp(x, -1, keepdim=True), x.logsumexp(both(x))],
     (F32, F64, I64), SHAPES),
    ("cumsum", lambda L, x: [x.cumsum(0), L.cumsum(x, -1), x.cumsum(0, dtype=L.float64)], (F32, F64, I32, BOOL),
     SHAPES),
    ("cumprod", lambda L, x: [x.cumprod(0), L.cumprod(x, -1)], (F32, F64, I64), SHAPES),
    ("cummax", lambda L, x: [x.cummax(0), L.cummax(x, -1)], (F32, I64), SHAPES),
    ("cummin", lambda L, x: [x.cummin(0), L.cummin(x, -1)], (F64, I32), SHAPES),
    ("all_any", lambda L, x: [x.all(), L.all(x, 0), x.any(-1, keepdim=True), L.any(x), x.all(both(x))],
     (F32, I64, U8, BOOL), SHAPES),
    ("count_nonzero", lambda L, x: [L.count_nonzero(x), x.count_nonzero(0), L.count_nonzero(x, both(x))],
     (F32, I64, BOOL), SHAPES),
    ("median", lambda L, x: [x.median(), L.median(x, 0), x.median(-1, keepdim=True)], (F32, F64, I64),
     {k: v for k, v in SHAPES.items() if k != "empty"}),
    ("nanmedian", lambda L, x: [x.nanmedian(), L.nanmedian(x, -1), x.nanmedian(0, True)], (F32, F64),
     {k: v for k, v in SHAPES.items() if k != "empty"}),
    ("mode", lambda L, x: [x.mode(), L.mode(x, 0), x.mode(-1, keepdim=True)], (I64, BOOL),
     {k: v for k, v in SHAPES.items() if k != "empty"}),
    ("quantile", lambda L, x: [x.quantile(0.3), L.quantile(x, 0.5, 0), x.quantile(0.75, -1, keepdim=True),
                               x.quantile(L.tensor([0.0, 0.4, 1.0], dtype=x.dtype), dim=0),
                               x.quantile(L.tensor(0.25, dtype=x.dtype), keepdim=True)], (F32, F64),
     {k: v for k, v in SHAPES.items() if k != "empty"}),
    ("nanquantile", lambda L, x: [x.nanquantile(0.3), L.nanquantile(x, 0.6, -1, interpolation="lower")], (F64,),
     {k: v for k, v in SHAPES.items() if k != "empty"}),
    ("nansum", lambda L, x: [x.nansum(), L.nansum(x, 0), x.nansum(-1, keepdim=True)], (F32, I64), SHAPES),
    ("nanmean", lambda L, x: [x.nanmean(), L.nanmean(x, -1, keepdim=True)], (F32, F64),
     {k: v for k, v in SHAPES.items() if k != "empty"}),
]


def _cases():
    for name, call, dtypes, shapes in ROWS:
        for dtype in dtypes:
            for shape_name, array in inputs(dtype, shapes).items():
                yield pytest.param(call, array, id=f"{name}-{numpy.dtype(dtype).name}-{shape_name}")


@pytest.mark.parametrize("call, array", list(_cases()))
def test_matches_torch(call, array):
    check(call, array)


def test_ties_pick_first_index_and_share_gradient():
    for dtype in (F32, I64):
        x = with_ties(dtype)
        check(lambda L, x: [x.max(0), x.min(1), x.argmax(1), x.argmin(0), x.argmax(), x.max(), x.amax(1), x.amin(0),
                            x.cummax(1), x.cummin(0), x.norm(INF, 1) if x.is_floating_point() else x.sum()], x)


def test_mode_and_median_with_ties():
    x = with_ties(I64)
    check(lambda L, x: [x.mode(0), x.mode(1), x.mode(), x.median()], x)
    check(lambda L, x: [x.mode(1), x.median(0)], with_ties(F64))


def test_nan_propagation():
    x = numpy.array([[1.0, NAN, 2.0, 0.5], [3.0, 1.0, NAN, NAN], [2.0, 4.0, 0.0, -1.0]])
    check(lambda L, x: [x.max(), x.max(1), x.amin(1), x.argmax(1), x.cummax(1), x.cummin(1), x.median(1),
                        x.nanmedian(1), x.nanmedian(), x.median(), x.nansum(1), x.nanmean(0), x.logsumexp(1)], x)
    check(lambda L, x: [x.quantile(0.4, 1), x.nanquantile(0.4, 1), x.nanquantile(L.tensor([0.2, 0.9],
                                                                                           dtype=L.float64), 0)], x)


def test_all_nan_slices():
    x = numpy.array([[NAN, NAN], [1.0, NAN]])
    check(lambda L, x: [x.nanmedian(1), x.nanquantile(0.5, 1), x.nanmean(1), x.nansum(1)], x, grad=False)


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_interpolation(interpolation):
    levels = [0.0, 0.125, 0.5, 0.8, 1.0]
    check(lambda L, x: [x.quantile(L.tensor(levels, dtype=L.float64), 1, interpolation=interpolation),
                        L.quantile(x, 0.5, interpolation=interpolation, keepdim=True),
                        x.nanquantile(0.25, 0, interpolation=interpolation)], sample((4, 7), F64))


def test_quantile_gradient_in_q():
    check(lambda L, x, q: [x.quantile(q, 1), x.nanquantile(q, 0, keepdim=True)], sample((4, 7), F64),
          numpy.array([0.0, 0.3, 0.5, 1.0]))


def test_logsumexp_is_stable():
    x = numpy.array([[1000.0, 1000.0, -INF], [-INF, -INF, -INF], [-1000.0, -1001.0, -1002.0]], dtype=F32)
    check(lambda L, x: [x.logsumexp(1), x.logsumexp(0, keepdim=True)], x, grad=False)
    check(lambda L, x: x.logsumexp(1), x[[0, 2]])


def test_prod_and_cumprod_gradients_with_zeros():
    x = numpy.array([[2.0, 0.0, 3.0, 4.0], [0.0, 0.0, 1.5, 2.0], [1.0, 2.0, 3.0, 0.0]])
    check(lambda L, x: [x.prod(), x.prod(1), x.prod(0, keepdim=True), x.cumprod(1), x.cumprod(0)], x)
    check(lambda L, x: x.prod(), numpy.array([[2.0, 0.0], [3.0, 4.0]]))


def test_std_of_constant_has_zero_gradient():
    check(lambda L, x: [x.std(), x.std(1)], numpy.full((2, 3), 1.5))


def test_norm_at_zero_has_zero_gradient():
    check(lambda L, x: [x.norm(), x.norm(3, 1), x.norm(1)], numpy.zeros((2, 3)))


def test_integer_reductions_keep_torch_dtypes():
    for dtype in (I32, U8, BOOL, numpy.int8, numpy.int16):
        x = sample((3, 4), dtype, low=0, high=3)
        check(lambda L, x: [x.sum(), x.prod(1), x.cumsum(0), x.cumprod(1), x.nansum(), x.all(), x.any(0),
                            x.max(), x.amin(0), x.count_nonzero()], x)


def test_return_types_are_named():
    x = ember.tensor([[1.0, 5.0, 2.0], [4.0, 0.0, 6.0]])
    for result, fields in [(x.max(1), ("values", "indices")), (x.cummin(0), ("values", "indices")),
                           (x.aminmax(), ("min", "max")), (x.median(1), ("values", "indices")),
                           (x.mode(0), ("values", "indices"))]:
        assert isinstance(result, tuple) and result._fields == fields
    assert type(x.max(1)).__name__ == "max"
    assert x.max(1).indices.dtype is ember.int64 and not x.max(1).indices.requires_grad


def test_binary_max_min_delegate_to_maximum():
    if not hasattr(ember.Tensor, "maximum"):
        pytest.skip("ember.maximum is not written yet")
    x, y = sample((3, 4), F32), sample((4,), F32, seed=1)
    check(lambda L, x, y: [L.max(x, y), x.min(y)], x, y)


def test_bincount_and_histc():
    x = numpy.array([1, 3, 3, 0, 7, 3])
    check(lambda L, x: [L.bincount(x), x.bincount(minlength=10)], x)
    check(lambda L, x: L.bincount(x, minlength=2), numpy.zeros(0, I64))
    for weights in (numpy.linspace(0, 1, 6, dtype=F32), numpy.arange(6), numpy.linspace(0, 1, 6)):
        check(lambda L, x, w: L.bincount(x, w), x, weights, grad=False)
    values = sample((50,), F32)
    check(lambda L, x: [x.histc(), L.histc(x, 7), x.histc(5, -1, 1), x.histc(4, 0, 0)], values, grad=False)
    check(lambda L, x: [x.histc(3)], numpy.full(4, 2.0, F64), grad=False)


def test_mean_of_integers_raises():
    check_error(lambda L, x: x.mean(), numpy.arange(3), match="mean")


@pytest.mark.parametrize("call, args", [
    (lambda L, x: x.sum(5), (sample((2, 3)),)),
    (lambda L, x: L.amax(x, -3), (sample((2, 3)),)),
    (lambda L, x: x.max(), (sample((0,)),)),
    (lambda L, x: x.max(0), (sample((0, 3)),)),
    (lambda L, x: x.amax(0), (sample((0, 3)),)),
    (lambda L, x: x.argmax(), (sample((0,)),)),
    (lambda L, x: x.argmin(0), (sample((0, 2)),)),
    (lambda L, x: x.aminmax(), (sample((0,)),)),
    (lambda L, x: x.aminmax(dim=0), (sample((0, 3)),)),
    (lambda L, x: x.median(0), (sample((0, 2)),)),
    (lambda L, x: x.mode(0), (sample((0, 2)),)),
    (lambda L, x: x.prod((0,)), (sample((2, 3)),)),
    (lambda L, x: x.std(), (sample((3,), I64),)),
    (lambda L, x: x.var(0, correction=1, unbiased=True), (sample((3,)),)),
    (lambda L, x: x.norm(), (sample((3,), I64),)),
    (lambda L, x: x.norm(INF), (sample((0,)),)),
    (lambda L, x: x.quantile(0.5), (sample((0,)),)),
    (lambda L, x: x.quantile(1.5), (sample((3,)),)),
    (lambda L, x: x.quantile(0.5), (sample((3,), I64),)),
    (lambda L, x: x.quantile(0.5, interpolation="cubic"), (sample((3,)),)),
    (lambda L, x, q: x.quantile(q), (sample((3,)), numpy.array([0.5]))),
    (lambda L, x: x.nanmean(), (sample((3,), I64),)),
    (lambda L, x: x.bincount(), (numpy.array([1, -1]),)),
    (lambda L, x: x.bincount(), (numpy.array([1.0, 2.0]),)),
    (lambda L, x: x.histc(), (numpy.arange(3),)),
    (lambda L, x: x.cumsum(2), (sample((2, 3)),)),
    (lambda L, x: x.all(-3), (sample((2, 3)),)),
])
def test_errors_match_torch(call, args):
    check_error(call, *args)


def test_dim_out_of_range_message():
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 5\)"):
        ember.ones(2, 3).sum(5)
    with pytest.raises(RuntimeError, match="Expected reduction dim to be specified for input.numel\\(\\) == 0"):
        ember.ones(0).max()


def test_out_argument():
    x = sample((3, 4))
    out = ember.empty(3)
    assert ember.sum(ember.tensor(x), 1, out=out) is out
    oracle.assert_same(out, oracle.to_torch(x).sum(1))
    values, indices = ember.empty(4), ember.empty(4, dtype=ember.int64)
    result = ember.max(ember.tensor(x), 0, out=(values, indices))
    assert result.values is values and result.indices is indices


DIFFERENTIABLE = [
    lambda L, x: x.sum((0, 2)),
    lambda L, x: x.mean(1, keepdim=True),
    lambda L, x: x.prod(1),
    lambda L, x: x.prod().reshape(1),   # gradcheck needs outputs of at least one dim
    lambda L, x: x.amax((0, 1)),
    lambda L, x: x.max(2).values,
    lambda L, x: x.min().reshape(1),
    lambda L, x: x.std(1),
    lambda L, x: x.var((0, 2), correction=0),
    lambda L, x: x.norm().reshape(1),
    lambda L, x: x.norm(3, 1),
    lambda L, x: x.norm(1, 2),
    lambda L, x: x.logsumexp((0, 1)),
    lambda L, x: x.cumsum(1),
    lambda L, x: x.cumprod(2),
    lambda L, x: x.cummax(1).values,
    lambda L, x: x.median(1).values,
    lambda L, x: x.quantile(0.3, 2),
    lambda L, x: x.nansum(0),
    lambda L, x: x.nanmean(1),
]


@pytest.mark.parametrize("call", DIFFERENTIABLE)
def test_gradcheck(call):
    if not hasattr(ember.autograd, "gradcheck"):
        pytest.skip("ember.autograd.gradcheck is not written yet")
    oracle.gradcheck(call, numpy.random.default_rng(3).uniform(0.5, 2.0, (2, 3, 4)))


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(0, 4), min_size=0, max_size=4), data=st.data())
def test_reductions_property(shape, data):
    shape = tuple(shape)
    dims = data.draw(st.lists(st.integers(-len(shape), len(shape) - 1), unique_by=lambda d: d % len(shape),
                              max_size=len(shape)) if shape else st.just([]))
    keepdim = data.draw(st.booleans())
    dtype = data.draw(st.sampled_from([F32, F64, I64]))
    x = sample(shape, dtype, seed=data.draw(st.integers(0, 100)))
    check(lambda L, x: [x.sum(dims, keepdim=keepdim), L.prod(x, dims[0], keepdim) if dims else x.prod()], x)
    if dtype != I64:
        check(lambda L, x: x.mean(dims, keepdim=keepdim), x)
    if all(shape[d] for d in dims) and (dims or math.prod(shape)):
        check(lambda L, x: x.amax(dims, keepdim=keepdim), x)


SIXTEEN_BIT_REDUCTIONS = {
    "norm": lambda t, x: x.norm(),
    "norm dims": lambda t, x: x.reshape(10, 100).norm(2, dim=(-2, -1), keepdim=True),
    "norm 3": lambda t, x: x.norm(3),
    "vector_norm": lambda t, x: t.linalg.vector_norm(x),
    "vector_norm 3": lambda t, x: t.linalg.vector_norm(x, 3),
    "matrix_norm": lambda t, x: t.linalg.matrix_norm(x.reshape(10, 100)),
    "logsumexp": lambda t, x: x.logsumexp(0),
    "cumsum": lambda t, x: x.cumsum(0),
    "cumprod": lambda t, x: (x * 1.001).cumprod(0),
}


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", SIXTEEN_BIT_REDUCTIONS)
def test_sixteen_bit_reductions_accumulate_in_float32(name, dtype):
    """1000 ones: a 16-bit accumulator stalls at 256 (bfloat16) or 2048 (float16); PyTorch's CPU reductions and
    scans accumulate in float32 and round once."""
    import torch
    fn = SIXTEEN_BIT_REDUCTIONS[name]
    expected = fn(torch, torch.ones(1000, dtype=getattr(torch, dtype))).float().numpy()
    got = fn(ember, ember.ones(1000, dtype=getattr(ember, dtype))).float().numpy()
    # a product's float32 association order may differ: one 16-bit rounding step at most
    numpy.testing.assert_allclose(got, expected, rtol=1e-3 if name == "cumprod" else 0)


def test_sixteen_bit_cumsum_gradient():
    import torch
    grads = []
    for lib in (torch, ember):
        x = lib.ones(600, dtype=lib.bfloat16, requires_grad=True)
        x.cumsum(0).sum().backward()
        grads.append(x.grad.float().numpy())
    numpy.testing.assert_array_equal(grads[1], grads[0])


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_precision_mean_is_a_float32_mean_rounded_once(dtype):
    # PyTorch's CPU mean of half types: float32 sum, float32 division, one rounding (ember rounded the sum first)
    import torch
    x = numpy.random.default_rng(0).random((4, 37, 53)).astype(numpy.float32)
    results = []
    for lib in (torch, ember):
        d = getattr(lib, dtype)
        y = lib.tensor(x).to(d)
        z = y.clone().requires_grad_(True)
        z.mean(1).sum().backward()
        results.append([y.mean(), y.mean((1, 2)), y.mean(1, keepdim=True), lib.tensor(x).mean(1, dtype=d),
                        lib.tensor(x).double().mean(0, dtype=d), z.grad])
    for theirs, ours in zip(*results):
        assert ours.dtype == getattr(ember, dtype) and tuple(ours.shape) == tuple(theirs.shape)
        numpy.testing.assert_array_equal(ours.float().numpy(), theirs.float().numpy())


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_precision_variance_accumulates_in_float32(dtype):
    # var, std, var_mean and std_mean of half types: float32 arithmetic, one rounding, as PyTorch's CPU kernels
    import torch
    x = numpy.random.default_rng(1).random((4, 37, 53)).astype(numpy.float32)
    results = []
    for lib in (torch, ember):
        y = lib.tensor(x).to(getattr(lib, dtype))
        z = y.clone().requires_grad_(True)
        z.std(1).sum().backward()
        results.append([y.var(1), y.std(2), y.var(), lib.var_mean(y, 1)[0], lib.std_mean(y, (0, 2), correction=0)[0],
                        z.grad])
    for theirs, ours in zip(*results):
        assert ours.dtype == getattr(ember, dtype)
        numpy.testing.assert_array_equal(ours.float().numpy(), theirs.float().numpy())


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("length", [1, 2, 3, 4, 7, 8])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
def test_sum_over_a_short_last_axis_matches_torch_bits(dtype, length, layout):
    """Sums over a last axis under 8 long (global pooling of small maps): PyTorch's bits (its four interleaved
    partial sums from 4 elements on), signed zeros included; the mean and its gradient too."""
    rng = numpy.random.default_rng(length)
    base = (rng.standard_normal((64, 300, length)) * 1e3).astype(dtype)
    base[0, 0] = -0.0
    array = {"contiguous": base, "transposed": numpy.ascontiguousarray(base.transpose(2, 0, 1)).transpose(1, 2, 0),
             "strided": numpy.repeat(base, 2, axis=-1)[..., ::2]}[layout]
    for keepdim in (False, True):
        got = ember.tensor(array).sum(-1, keepdim=keepdim).numpy()
        numpy.testing.assert_array_equal(got.view(numpy.uint8), oracle.torch.tensor(array).sum(-1, keepdim=keepdim)
                                         .numpy().view(numpy.uint8))
    check(lambda t, a: t.mean(a, -1), array / 1e3)   # values of 1: cancellation stays within the tolerance


@pytest.mark.parametrize("name", ["mean", "nanmean"])
@pytest.mark.parametrize("input_dtype", ["int64", "float32"])
@pytest.mark.parametrize("dtype", [None, "int64", "int32", "float32"])
def test_integral_means_are_refused_naming_the_dtype_as_pytorch(name, input_dtype, dtype):
    """mean names the dtype asked for ('Optional dtype') or the input's; nanmean checks the input's first."""
    def call(t):
        kwargs = {} if dtype is None else {"dtype": getattr(t, dtype)}
        return getattr(t, name)(t.arange(4).to(getattr(t, input_dtype)), 0, **kwargs)
    try:
        call(oracle.torch)
    except RuntimeError:
        oracle.check_same_error(call)
    else:
        check(call, grad=False)


@pytest.mark.parametrize("shape, dim", [((2, 13824, 23), 1), ((100001, 3), 0), ((3, 1000, 2, 7), -3), ((17, 4), 0)])
def test_float32_sum_along_a_long_outer_axis_is_as_accurate_as_torch(shape, dim):
    # MONAI's mutual-information loss: a mean over 13,824 rows (not the last axis), where adding row after row
    # lost 4e-6 relative to PyTorch's 1e-7 cascade sum
    import torch
    x = numpy.random.default_rng(0).random(shape).astype(numpy.float32)
    exact = x.astype(numpy.float64).sum(dim, keepdims=True)
    errors = {}
    for lib in (ember, torch):
        got = lib.from_numpy(x).sum(dim, keepdim=True)
        assert tuple(got.shape) == exact.shape and got.dtype == lib.float32
        errors[lib] = numpy.abs(got.numpy() - exact).max() / numpy.abs(exact).max()
        numpy.testing.assert_allclose(lib.from_numpy(x).mean(dim).numpy(), exact.squeeze(dim) / shape[dim],
                                      rtol=1e-6)
    assert errors[ember] <= max(3 * errors[torch], 2e-7)
