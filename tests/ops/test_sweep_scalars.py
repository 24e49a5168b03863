"""Python numbers meeting tensors of narrower dtypes, as a differential sweep against PyTorch 2.13 found them: the
range check of fills (c10's ``checked_convert``: unsigned dtypes take negative ints down to ``-max``) and the
wrap-around of a number in arithmetic (cast modulo 2**bits), each case run on both."""
import pytest
import torch

import ember

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64",
          "complex64"]
VALUES = [-1, -255, -256, 255, 256, 300, 128, -129, 2 ** 31, 2 ** 63 - 1, 2.7, -2.7, 1e300, float("inf"),
          float("nan"), 1j, 1 + 0j]
FILLS = {
    "fill_": lambda L, x, v: x.fill_(v),
    "full": lambda L, x, v: L.full((2,), v, dtype=x.dtype),
    "full_like": lambda L, x, v: L.full_like(x, v),
    "new_full": lambda L, x, v: x.new_full((2,), v),
    "masked_fill": lambda L, x, v: x.masked_fill(L.tensor([True, False]), v),
    "index_fill": lambda L, x, v: x.index_fill(0, L.tensor([0]), v),
    "scatter": lambda L, x, v: x.scatter(0, L.tensor([0]), v),
    "setitem": lambda L, x, v: x.__setitem__(0, v),
    "setitem by mask": lambda L, x, v: x.__setitem__(L.tensor([True, False]), v),
    "add": lambda L, x, v: x + v,
    "eq": lambda L, x, v: x == v,
    "clamp": lambda L, x, v: x.clamp(min=v),
    "where": lambda L, x, v: L.where(L.tensor([True, False]), x, v),
}


def outcome(fn, lib, dtype, value):
    """The tensor ``fn`` leaves (as dtype name and values) or its exception's type and message."""
    x = lib.zeros(2, dtype=getattr(lib, dtype))
    try:
        result = fn(lib, x, value)
    except Exception as error:   # noqa: BLE001 - the error is the result compared
        return type(error).__name__, str(error)
    result = x if result is None else result
    values = result.to(lib.complex128 if result.is_complex() else lib.float64).tolist()
    return str(result.dtype).split(".")[1], [str(v) for v in values]


@pytest.mark.parametrize("name", FILLS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_numbers_into_dtypes_as_torch(name, dtype):
    for value in VALUES:
        if name == "add" and dtype == "float16" and isinstance(value, complex):
            continue   # PyTorch has no complex32 arithmetic here ("Got unsupported ScalarType ComplexHalf")
        if name in ("clamp", "where") and isinstance(value, complex):
            continue
        if name in ("add", "eq") and (not isinstance(value, int) or value >= 2 ** 31 and dtype in ("bool", "float16")):
            continue   # ints wrap; NumPy warns casting an overflowing number to inf, where PyTorch is silent
        expected = outcome(FILLS[name], torch, dtype, value)
        assert outcome(FILLS[name], ember, dtype, value) == expected, (value, expected)


INT_OPS = {
    "true division": lambda L, x, v: x / v,
    "reversed division": lambda L, x, v: v / x,
    "remainder": lambda L, x, v: x % v,
    "pow": lambda L, x, v: x ** v,
    "add with alpha": lambda L, x, v: L.add(x, x, alpha=v),
    "sub with alpha": lambda L, x, v: L.sub(x, x, alpha=v),
    "addcmul value": lambda L, x, v: L.addcmul(x, x, x, value=v),
    "floor division": lambda L, x, v: x // v,
    "shift": lambda L, x, v: x << v,
}


@pytest.mark.parametrize("name", INT_OPS)
@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32"])
def test_ints_past_the_dtype_in_integer_ops_as_torch(name, dtype):
    """An int outside an integer tensor's dtype keeps its value where the op computes in floats (true division),
    is range-checked as ``alpha``/``value`` and as an integer power (negative ones refused), and wraps elsewhere."""
    for value in (200, -1, 300, 2 ** 31, -129, 1000):
        def run(lib):
            try:
                result = INT_OPS[name](lib, lib.tensor([1, 2, 3], dtype=getattr(lib, dtype)), value)
            except RuntimeError as error:
                return str(error)
            return str(result.dtype).split(".")[1], result.tolist()
        assert run(ember) == run(torch), value
