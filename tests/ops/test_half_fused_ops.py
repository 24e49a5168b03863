"""float16 and bfloat16 add/sub with alpha, addcmul and addcdiv give PyTorch's CPU bits: computed in float32 and
rounded once (alpha cast to the 16-bit type first; the elements past the last full vector of add's loop round the
product first, as PyTorch's scalar loop), with PyTorch's gradients; and casts to 16-bit floats from float64 round
through float32 as PyTorch's do."""
import numpy
import pytest
import torch

import ember
from tests.oracle import outcome

OPS = {
    "add alpha": lambda L, a, b, c: L.add(a, b, alpha=0.3) * c,
    "sub alpha": lambda L, a, b, c: L.sub(a, b, alpha=-1.3) * c,
    "add_ alpha": lambda L, a, b, c: (a * 1).add_(b, alpha=0.1) * c,
    "addcmul": lambda L, a, b, c: L.addcmul(a, b, c, value=0.3),
    "addcdiv": lambda L, a, b, c: L.addcdiv(a, b, c, value=-0.7),
    "addcdiv_": lambda L, a, b, c: (a * 1).addcdiv_(b, c, value=2),
}
SHAPES = {"5": [(5,)] * 3, "45": [(45,)] * 3, "64": [(64,)] * 3, "77": [(77,)] * 3,
          "rows broadcast": [(3, 40), (1, 40), (3, 40)]}


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("op", OPS)
def test_bits_and_gradients_as_pytorch(op, shapes, dtype):
    rng = numpy.random.default_rng(len(op) + len(shapes))
    sizes = SHAPES[shapes]
    values = [rng.standard_normal(sizes[0]), rng.standard_normal(sizes[1]), rng.random(sizes[2]) + 0.5]
    gradient = rng.standard_normal(numpy.broadcast_shapes(*sizes))

    def run(L):
        tensors = [L.tensor(v, dtype=getattr(L, dtype)).requires_grad_() for v in values]
        result = OPS[op](L, *tensors)
        result.backward(L.tensor(gradient, dtype=getattr(L, dtype)))
        return [result] + [t.grad for t in tensors]

    mine, theirs = outcome(ember, run), outcome(torch, run)
    for a, b in zip(mine, theirs):
        numpy.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("convert", ["to", "tensor", "as_tensor", "copy_", "type_as"])
def test_cast_from_float64_rounds_through_float32(convert, dtype):
    values = numpy.random.default_rng(0).standard_normal(200_000)   # ~10 of them round differently in one step
    forms = {"to": lambda L, d: L.from_numpy(values).to(d), "tensor": lambda L, d: L.tensor(values, dtype=d),
             "as_tensor": lambda L, d: L.as_tensor(values, dtype=d),
             "copy_": lambda L, d: L.empty(values.size, dtype=d).copy_(L.from_numpy(values)),
             "type_as": lambda L, d: L.from_numpy(values).type_as(L.ones(1, dtype=d))}
    mine = forms[convert](ember, getattr(ember, dtype)).float().numpy()
    theirs = forms[convert](torch, getattr(torch, dtype)).float().numpy()
    numpy.testing.assert_array_equal(mine, theirs)


def test_int32_to_bfloat16_rounds_through_float32():
    values = (numpy.random.default_rng(1).standard_normal(100_000) * 1e8).astype(numpy.int32)
    numpy.testing.assert_array_equal(ember.from_numpy(values).to(ember.bfloat16).float().numpy(),
                                     torch.from_numpy(values).to(torch.bfloat16).float().numpy())


@pytest.mark.parametrize("source", ["float32", "float64", "int64", "bool"])
def test_cast_to_e8m0_as_pytorch(source):
    """float8_e8m0fnu takes a value's exponent alone, as c10 converts: the sign dropped, zero to 2**-127, rounded to
    nearest with ties to even, NaN for NaN and infinities (ml_dtypes gives NaN for every value <= 0)."""
    rng = numpy.random.default_rng(0)
    values = numpy.concatenate([rng.standard_normal(5000) * 10, [0.0, -0.0, 1.5, -1.5, 3e38, 1e-40, numpy.inf,
                                                                  numpy.nan, 2.5, 3.0, -6.0]])
    if source in ("int64", "bool"):
        values = rng.integers(-300, 300, 5000) if source == "int64" else rng.integers(0, 2, 50)
    values = values.astype(source)

    def run(L):
        target = L.float8_e8m0fnu
        written = L.zeros(values.size, dtype=target)
        written[:] = L.from_numpy(values)
        return [L.from_numpy(values).to(target).float(), written.float()]
    mine, theirs = outcome(ember, run), outcome(torch, run)
    for a, b in zip(mine, theirs):
        numpy.testing.assert_array_equal(a, b)


def _double_rounded(dtype):
    """Python floats that c10 (a double to float32, then to the 16-bit type) and NumPy (one rounding) convert to
    different 16-bit values."""
    values = numpy.random.default_rng(0).standard_normal(400_000)
    target = numpy.float16 if dtype == "float16" else ember.bfloat16.numpy
    once, twice = values.astype(target).astype(numpy.float64), values.astype(numpy.float32).astype(target)
    return [float(v) for v in values[once != twice.astype(numpy.float64)][:4]]


NUMBER_PATHS = {
    "setitem": lambda L, d, v: (lambda t: (t.__setitem__(0, v), t)[1])(L.zeros(2, dtype=d)),
    "full": lambda L, d, v: L.full((2,), v, dtype=d),
    "fill_": lambda L, d, v: L.zeros(2, dtype=d).fill_(v),
    "add": lambda L, d, v: L.zeros(2, dtype=d) + v,
    "radd": lambda L, d, v: v + L.zeros(2, dtype=d),
    "masked_fill": lambda L, d, v: L.zeros(2, dtype=d).masked_fill(L.tensor([True, False]), v),
    "where": lambda L, d, v: L.where(L.tensor([True, False]), v, L.zeros(2, dtype=d)),
    "clamp": lambda L, d, v: L.full((2,), -100.0, dtype=d).clamp(min=v),
    "index_fill": lambda L, d, v: L.zeros(2, dtype=d).index_fill(0, L.tensor([1]), v),
    "add alpha": lambda L, d, v: L.zeros(2, dtype=d).add(L.ones(2, dtype=d), alpha=v),
    "nan_to_num": lambda L, d, v: L.tensor([float("nan"), float("inf")], dtype=d).nan_to_num(nan=v, posinf=-v),
    "hardtanh": lambda L, d, v: L.nn.functional.hardtanh(L.tensor([100.0, -100.0], dtype=d), -abs(v), abs(v)),
}


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("path", NUMBER_PATHS)
def test_numbers_reach_16_bits_through_float32(path, dtype):
    for value in _double_rounded(dtype):
        mine = NUMBER_PATHS[path](ember, getattr(ember, dtype), value).float().numpy()
        theirs = NUMBER_PATHS[path](torch, getattr(torch, dtype), value).float().numpy()
        numpy.testing.assert_array_equal(mine, theirs)


def test_bfloat16_nan_to_num_replaces():
    def run(L):
        x = L.tensor([float("nan"), float("inf"), -float("inf"), 1.5], dtype=L.bfloat16)
        return [x.nan_to_num(), x.nan_to_num(nan=0.3, posinf=1e39, neginf=-2.0)]
    for a, b in zip(outcome(ember, run), outcome(torch, run)):
        numpy.testing.assert_array_equal(a, b)
