"""``out=`` as a second differential sweep against PyTorch 2.13 found it: sums, products and running sums compute in
out's dtype, all/any take bool (or uint8) results only, cat/stack check out's dtype and memory, signbit/isposinf/
isneginf take ``out=``, PyTorch's unary kernels that write their input's dtype (neg, abs, sign, floor, round, clamp,
...) refuse an out of another dtype, as do those writing one dtype (mm, matmul, tril, gather, cross, argmax, dot,
index_select, nonzero, where, amax, amin) and those writing pairs (max, min, sort, topk, aminmax); each case run on both
libraries and compared."""

import pytest
import torch

from tests.oracle import same_listing


def x(lib):
    return lib.tensor([[0.5, 1.5], [2.5, -1.0]])


def empty(lib, dtype):
    return lib.empty(0, dtype=getattr(lib, dtype))


REDUCTIONS = {
    "sum": lambda L, o, **k: L.sum(x(L), 0, out=o, **k),
    "sum all bool": lambda L, o, **k: L.sum(x(L) > 0, 0, out=o, **k),
    "prod": lambda L, o, **k: L.prod(x(L), 0, out=o, **k),
    "prod bool": lambda L, o, **k: L.prod(x(L) > 1, 0, out=o, **k),
    "cumsum": lambda L, o, **k: L.cumsum(x(L), 0, out=o, **k),
    "cumprod": lambda L, o, **k: L.cumprod(x(L), 1, out=o, **k),
    "mean": lambda L, o, **k: L.mean(x(L), 0, out=o, **k),
    "nansum": lambda L, o, **k: L.nansum(x(L), 0, out=o, **k),
    "nanmean": lambda L, o, **k: L.nanmean(x(L), 0, out=o, **k),
}


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("out_dtype", ["bool", "uint8", "int32", "int64", "float16", "float64", "complex64"])
@pytest.mark.parametrize("dtype", [None, "float64", "int32"])
def test_reductions_compute_in_outs_dtype(name, out_dtype, dtype):
    fn = REDUCTIONS[name]
    keywords = {} if dtype is None else {"dtype": dtype}
    same_listing(lambda L: fn(L, empty(L, out_dtype), **{k: getattr(L, v) for k, v in keywords.items()}))


@pytest.mark.parametrize("name", ["all", "any"])
@pytest.mark.parametrize("input_dtype", ["bool", "uint8", "float32", "int64"])
@pytest.mark.parametrize("out_dtype", ["bool", "uint8", "int64", "float32"])
@pytest.mark.parametrize("dim", [None, 0])
def test_all_any_results_are_bool_or_uint8(name, input_dtype, out_dtype, dim):
    def fn(L):
        values = L.tensor([[0.5, 1.5, 0.0], [2.5, -1.0, 3.0]]).to(getattr(L, input_dtype))
        reduce = getattr(L, name)
        out = empty(L, out_dtype)
        return reduce(values, out=out) if dim is None else reduce(values, dim, out=out)
    same_listing(fn)


@pytest.mark.parametrize("join", ["cat", "stack"])
@pytest.mark.parametrize("out_dtype", ["bool", "uint8", "int64", "float16", "float64", "complex64"])
def test_cat_stack_out_dtype(join, out_dtype):
    same_listing(lambda L: getattr(L, join)([x(L), x(L).int()], out=empty(L, out_dtype)))


@pytest.mark.parametrize("join", ["cat", "stack"])
def test_cat_stack_refuse_out_sharing_an_input(join):
    def fn(L):
        base = L.zeros(4, 2)
        return getattr(L, join)([base[:2], x(L)], out=base)
    same_listing(fn)
    same_listing(lambda L: getattr(L, join)([x(L), x(L)], out=L.zeros(0)))   # an empty out shares nothing


@pytest.mark.parametrize("name", ["signbit", "isposinf", "isneginf"])
@pytest.mark.parametrize("out_dtype", ["bool", "uint8", "float32"])
def test_value_tests_take_bool_out(name, out_dtype):
    def fn(L):
        values = L.tensor([-1.0, float("inf"), -float("inf"), 0.0, -0.0])
        out = L.ones(5, dtype=getattr(L, out_dtype))
        result = getattr(L, name)(values, out=out)
        assert result is out
        return out
    same_listing(fn)


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int64", "float32"])
@pytest.mark.parametrize("form", ["linalg", "torch"])
def test_cross_integer_wraps_and_bool_refused(dtype, form):
    def fn(L):
        a = L.tensor([[0, 1, 1], [1, 1, 0]]).to(getattr(L, dtype))
        b = (L.tensor([[1, 1, 0], [0, 1, 1]]) * 3).to(getattr(L, dtype))
        return L.linalg.cross(a, b) if form == "linalg" else L.cross(a, b, dim=1)
    same_listing(fn)


UNARY = {
    "neg": lambda L, x, o: L.neg(x, out=o), "abs": lambda L, x, o: L.abs(x, out=o),
    "sign": lambda L, x, o: L.sign(x, out=o), "sgn": lambda L, x, o: L.sgn(x, out=o),
    "floor": lambda L, x, o: L.floor(x, out=o), "ceil": lambda L, x, o: L.ceil(x, out=o),
    "trunc": lambda L, x, o: L.trunc(x, out=o), "round": lambda L, x, o: L.round(x, out=o),
    "round decimals": lambda L, x, o: L.round(x, decimals=1, out=o), "frac": lambda L, x, o: L.frac(x, out=o),
    "bitwise_not": lambda L, x, o: L.bitwise_not(x, out=o), "clamp": lambda L, x, o: L.clamp(x, min=0.5, out=o),
    "clamp tensor bounds": lambda L, x, o: L.clamp(x, min=L.tensor(0.5, dtype=L.float64), out=o),
}


def supported(name, dtype):
    """Whether PyTorch's kernel of ``name`` takes ``dtype`` at all (elsewhere the two libraries' errors come in
    different orders: the out's dtype first in PyTorch)."""
    lib_dtype = getattr(torch, dtype)
    try:
        UNARY[name](torch, torch.ones(2, dtype=lib_dtype), torch.empty(0, dtype=lib_dtype))
    except (RuntimeError, NotImplementedError):
        return False
    return True


@pytest.mark.parametrize("name,dtype", [(name, dtype) for name in UNARY
                                        for dtype in ["bool", "uint8", "int64", "float32", "float64", "complex64"]
                                        if supported(name, dtype)])
@pytest.mark.parametrize("out_dtype", ["bool", "int32", "int64", "float16", "float32", "float64", "complex64",
                                       "complex128"])
def test_unary_kernels_refuse_an_out_of_another_dtype(name, dtype, out_dtype):
    same_listing(lambda L: UNARY[name](L, L.tensor([-1.5, 0.0, 2.5]).to(getattr(L, dtype)), empty(L, out_dtype)))


ONE_DTYPE = {
    "tril": lambda L, x, o: L.tril(x, out=o), "triu": lambda L, x, o: L.triu(x, 1, out=o),
    "gather": lambda L, x, o: L.gather(x, 1, L.tensor([[0, 0], [1, 0]]), out=o),
    "mm": lambda L, x, o: L.mm(x, x.t(), out=o), "bmm": lambda L, x, o: L.bmm(x[None], x.t()[None], out=o),
    "matmul 2-d": lambda L, x, o: L.matmul(x, x.t(), out=o),
    "matmul batched": lambda L, x, o: L.matmul(x[None], x.t(), out=o),
    "matmul matrix-vector": lambda L, x, o: L.matmul(x, x[0], out=o),
    "matmul vectors": lambda L, x, o: L.matmul(x[0], x[1], out=o),
    "dot": lambda L, x, o: L.dot(x[0], x[1], out=o), "vdot": lambda L, x, o: L.vdot(x[0], x[1], out=o),
    "linalg.cross": lambda L, x, o: L.linalg.cross(x, x, out=o), "cross": lambda L, x, o: L.cross(x, x, dim=1, out=o),
    "argmax": lambda L, x, o: L.argmax(x, 0, out=o), "argmin": lambda L, x, o: L.argmin(x, out=o),
    "index_select": lambda L, x, o: L.index_select(x, 0, L.tensor([1, 0]), out=o),
    "index_select 0-d": lambda L, x, o: L.index_select(x[0, 0], 0, L.tensor([0]), out=o),
    "nonzero": lambda L, x, o: L.nonzero(x, out=o), "where": lambda L, x, o: L.where(x > 0, x, x, out=o),
    "amax": lambda L, x, o: L.amax(x, 0, out=o), "amin": lambda L, x, o: L.amin(x, out=o),
}


@pytest.mark.parametrize("index", [[0], 0, [0, 0], [1], []])
def test_index_select_of_a_0d_input(index):
    same_listing(lambda L: L.index_select(L.tensor(-1.5), 0, L.tensor(index, dtype=L.int64)))


@pytest.mark.parametrize("name", ONE_DTYPE)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("out_dtype", ["float16", "float32", "float64", "int32", "int64"])
def test_kernels_of_one_dtype_refuse_an_out_of_another(name, dtype, out_dtype):
    def fn(L):
        x = L.tensor([[-1.5, 0.5, 2.5], [-0.5, 1.5, -1.5]]).to(getattr(L, dtype))
        return ONE_DTYPE[name](L, x, empty(L, out_dtype))
    same_listing(fn)


PAIRS = {
    "max": lambda L, x, o: tuple(L.max(x, 1, out=o)), "min": lambda L, x, o: tuple(L.min(x, 1, out=o)),
    "sort": lambda L, x, o: tuple(L.sort(x, 1, out=o)), "topk": lambda L, x, o: tuple(L.topk(x, 2, out=o)),
    "aminmax": lambda L, x, o: tuple(L.aminmax(x, dim=1, out=o)),
    "max into a list": lambda L, x, o: tuple(L.max(x, 1, out=list(o))),
}


@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize("dtypes", [("float32", "int64"), ("float64", "int64"), ("float32", "int32"),
                                    ("float32", "float32")])
def test_pairs_of_outs_take_exact_dtypes(name, dtypes):
    def fn(L):
        x = L.tensor([[3.0, 1.0, 2.0], [1.0, 3.0, 3.0]])
        results = PAIRS[name](L, x, tuple(empty(L, d) for d in dtypes))
        return L.stack([r.double() for r in results])
    same_listing(fn)
