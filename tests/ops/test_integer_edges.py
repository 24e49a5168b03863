"""Integer-typed edges against PyTorch: integer powers with negative exponents down to the type's minimum, ldexp's
dtype rules, and the dtype errors of matmul and lerp."""
import pytest

from tests.oracle import same_outcome


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64"])
@pytest.mark.parametrize("base", [2, -2, 1, -1, 0, 3])
def test_integer_powers_of_negative_exponents(base, dtype):
    """0 except for bases 1 and -1 (the exponent's parity); the type's minimum exponent (whose absolute value
    overflows) raised in NumPy's power."""
    def run(L):
        info = L.iinfo(getattr(L, dtype))
        exponents = L.tensor([info.min, info.min + 1, -3, -2, -1, 0, 1, 5], dtype=getattr(L, dtype))
        return [base ** exponents, L.full((8,), base, dtype=getattr(L, dtype)) ** exponents]
    same_outcome(run, rtol=0)


@pytest.mark.parametrize("input_dtype, other_dtype", [
    ("int64", "bool"), ("bool", "bool"), ("uint16", "uint8"), ("int32", "uint64"), ("float32", "bool"),
    ("float32", "uint16"), ("float16", "int64"), ("int64", "float16"), ("float64", "int8")])
def test_ldexp_dtypes(input_dtype, other_dtype):
    """An integer input's ldexp is input * 2.0 ** other for any integer or bool exponent (the default float
    dtype); a floating input's integer exponent takes PyTorch's kernel, which refuses bool and uint16-64."""
    def run(L):
        a = L.tensor([1, 2, 3]).to(getattr(L, input_dtype))
        b = L.tensor([1, 0, 2]).to(getattr(L, other_dtype))
        return L.ldexp(a, b)
    same_outcome(run, rtol=0)


@pytest.mark.parametrize("call", [
    lambda L: L.tensor([[1, 2]], dtype=L.uint8) @ L.tensor([[1], [2]], dtype=L.uint16),
    lambda L: L.tensor([[1, 2]], dtype=L.uint32) @ L.tensor([[1], [2]], dtype=L.int64),
    lambda L: L.lerp(L.tensor([1, 2]), L.tensor([1, 2], dtype=L.int8), 0.5),
    lambda L: L.lerp(L.tensor([1, 2]), L.tensor([1, 2]), L.tensor([1.0, 2.0])),
    lambda L: L.lerp(L.tensor([1, 2]), L.tensor([1, 2]), 0.5),
])
def test_integer_dtype_errors(call):
    same_outcome(call)
