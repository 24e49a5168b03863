"""Dtypes and PyTorch's type promotion: promote_types over every pair, result_type and the dtype of ``a + b`` for
tensors, 0-d tensors and Python scalars, compared with torch (bfloat16 through ml_dtypes)."""
import itertools
import pickle
import warnings

import numpy
import pytest
import torch

import ember

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64",
         "complex64", "complex128"]
SCALARS = [True, 2, 2.5, 1 + 1j]


def _pair(name):
    return getattr(ember, name), getattr(torch, name)


def _same(e, t):
    # ember has no complex32 (chalf): where torch promotes float16 with complex to it, ember gives complex64.
    expected = repr(t).replace("torch.", "ember.").replace("complex32", "complex64")
    assert repr(e) == expected, f"{e} != {t}"


@pytest.mark.parametrize("a, b", list(itertools.product(NAMES, NAMES)))
def test_promote_types(a, b):
    (ea, ta), (eb, tb) = _pair(a), _pair(b)
    _same(ember.promote_types(ea, eb), torch.promote_types(ta, tb))


def _operand(lib, name, kind):
    """kind: 'tensor' (1-d), 'zero_dim' (0-d tensor)."""
    d = getattr(lib, name)
    warnings.filterwarnings("ignore", "ComplexHalf support is experimental")
    return lib.ones(2, dtype=d) if kind == "tensor" else lib.ones((), dtype=d)


@pytest.mark.parametrize("kinds", [("tensor", "tensor"), ("tensor", "zero_dim"), ("zero_dim", "zero_dim")])
def test_result_type_tensors(kinds):
    for a, b in itertools.product(NAMES, NAMES):
        expected = torch.result_type(_operand(torch, a, kinds[0]), _operand(torch, b, kinds[1]))
        _same(ember.result_type(_operand(ember, a, kinds[0]), _operand(ember, b, kinds[1])), expected)


@pytest.mark.parametrize("kind", ["tensor", "zero_dim"])
@pytest.mark.parametrize("scalar", SCALARS, ids=repr)
def test_result_type_scalars(kind, scalar):
    for name in NAMES:
        expected = torch.result_type(_operand(torch, name, kind), scalar)
        _same(ember.result_type(_operand(ember, name, kind), scalar), expected)


@pytest.mark.parametrize("kinds", [("tensor", "tensor"), ("tensor", "zero_dim"), ("zero_dim", "tensor")])
def test_add_dtype(kinds):
    for a, b in itertools.product(NAMES, NAMES):
        if "bool" == a == b:
            continue
        expected = (_operand(torch, a, kinds[0]) + _operand(torch, b, kinds[1])).dtype
        _same((_operand(ember, a, kinds[0]) + _operand(ember, b, kinds[1])).dtype, expected)


@pytest.mark.parametrize("scalar", SCALARS, ids=repr)
def test_add_scalar_dtype(scalar):
    for name in NAMES:
        for kind in ("tensor", "zero_dim"):
            expected = (_operand(torch, name, kind) + scalar).dtype
            _same((_operand(ember, name, kind) + scalar).dtype, expected)
            _same((scalar + _operand(ember, name, kind)).dtype, expected)


def test_can_cast():
    for a, b in itertools.product(NAMES, NAMES):
        (ea, ta), (eb, tb) = _pair(a), _pair(b)
        assert ember.can_cast(ea, eb) == torch.can_cast(ta, tb), (a, b)


def test_dtype_properties():
    for name in NAMES:
        e, t = _pair(name)
        assert e.is_floating_point == t.is_floating_point and e.is_complex == t.is_complex
        assert e.is_signed == t.is_signed and e.itemsize == t.itemsize
        assert repr(e) == f"ember.{name}" and pickle.loads(pickle.dumps(e)) is e
        assert ember.zeros(1, dtype=e).element_size() == t.itemsize
    aliases = {"half": "float16", "float": "float32", "double": "float64", "short": "int16", "int": "int32",
               "long": "int64", "cfloat": "complex64", "cdouble": "complex128", "bool": "bool"}
    for alias, name in aliases.items():
        assert getattr(ember, alias) is getattr(ember, name)
    assert isinstance(ember.float32, ember.dtype)


def test_default_dtype():
    assert ember.get_default_dtype() is ember.float32
    try:
        ember.set_default_dtype(ember.float64)
        assert ember.tensor(1.5).dtype is ember.float64 and ember.tensor(1j).dtype is ember.complex128
        assert ember.result_type(ember.tensor([1]), 1.5) is ember.float64
    finally:
        ember.set_default_dtype(ember.float32)
    with pytest.raises(TypeError):
        ember.set_default_dtype(ember.int32)


UNSIGNED = ["uint16", "uint32", "uint64"]


@pytest.mark.parametrize("a, b", [(u, o) for u in UNSIGNED for o in NAMES + UNSIGNED] + [(o, "uint32") for o in NAMES])
def test_promotion_of_wide_unsigned_types(a, b):
    (ea, ta), (eb, tb) = _pair(a), _pair(b)
    try:
        expected = torch.promote_types(ta, tb)
    except RuntimeError as error:
        with pytest.raises(RuntimeError) as ember_error:
            ember.promote_types(ea, eb)
        assert str(ember_error.value) == str(error)
    else:
        _same(ember.promote_types(ea, eb), expected)


@pytest.mark.parametrize("name", UNSIGNED)
def test_wide_unsigned_tensors_follow_torch(name):
    import numpy
    from tests.oracle import check
    array = numpy.array([1, 2, 65535], dtype=name)
    for call in [lambda lib, t: t * 2, lambda lib, t: t * lib.tensor(3), lambda lib, t: t * 2.5, lambda lib, t: t == 1,
                 lambda lib, t: t.sum(), lambda lib, t: t.long(), lambda lib, t: t.float(), lambda lib, t: t[1],
                 lambda lib, t: lib.cat([t, t]), lambda lib, t: t & t, lambda lib, t: t.to(lib.uint32),
                 lambda lib, t: lib.zeros(2, dtype=t.dtype), lambda lib, t: lib.tensor([7, 8], dtype=t.dtype)]:
        check(call, array, grad=False)
    e, t = ember.from_numpy(array), torch.from_numpy(array)
    assert repr(e).replace("ember", "torch") == repr(t) and e.tolist() == t.tolist()
    assert e.is_signed() is t.is_signed() is False and e.dtype.itemsize == t.dtype.itemsize
    assert numpy.shares_memory(e.numpy(), array)


def test_uint64_beyond_int64_and_unsupported_numpy_types():
    import numpy
    assert ember.tensor(2**63, dtype=ember.uint64).item() == torch.tensor(2**63, dtype=torch.uint64).item()
    for array in (numpy.array(["a"]), numpy.array([1.0], dtype=numpy.longdouble)):
        with pytest.raises(TypeError) as torch_error:
            torch.from_numpy(array)
        with pytest.raises(TypeError) as ember_error:
            ember.from_numpy(array)
        assert str(ember_error.value) == str(torch_error.value)


FLOAT8 = ["float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz", "float8_e8m0fnu"]


@pytest.mark.parametrize("name", FLOAT8 + ["float4_e2m1fn_x2"])
def test_float8_dtype_properties(name):
    ours, theirs = getattr(ember, name), getattr(torch, name)
    for attribute in ("itemsize", "is_floating_point", "is_complex", "is_signed"):
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    assert repr(ours).split(".")[1] == repr(theirs).split(".")[1]
    assert pickle.loads(pickle.dumps(ours)) is ours


def test_complex32_is_a_dtype_ember_makes_no_tensors_of():
    # kornia lists torch.complex32 among the dtypes it accepts; ember has the name, not the tensors
    for attribute in ("itemsize", "is_floating_point", "is_complex", "is_signed"):
        assert getattr(ember.complex32, attribute) == getattr(torch.complex32, attribute), attribute
    assert ember.chalf is ember.complex32 and torch.chalf is torch.complex32
    assert ember.complex32.to_real() is ember.float16 and torch.complex32.to_real() is torch.float16
    assert ember.complex32 not in (ember.complex64, ember.float16) and repr(ember.complex32) == "ember.complex32"
    assert pickle.loads(pickle.dumps(ember.complex32)) is ember.complex32
    with pytest.raises(TypeError, match="ember does not implement tensors of dtype ember.complex32"):
        ember.zeros(2, dtype=ember.complex32)


@pytest.mark.parametrize("name", FLOAT8)
@pytest.mark.parametrize("other", ["float32", "bfloat16", "int64", "bool"])
def test_float8_promotion_is_refused(name, other):
    messages = []
    for lib in (torch, ember):
        with pytest.raises(RuntimeError) as error:
            lib.promote_types(getattr(lib, name), getattr(lib, other))
        messages.append(str(error.value))
    assert messages[0] == messages[1]
    assert ember.promote_types(getattr(ember, name), getattr(ember, name)) is getattr(ember, name)


@pytest.mark.parametrize("name", ["float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz"])
def test_float8_tensors_round_and_convert_as_torch(name):
    values = [440., 460, 470, 1000, 1e6, float("inf"), -float("inf"), 60000, 70000, 1e-9, 0.3, -0.0, -1.7,
              float("nan"), 2.7]
    ours = ember.tensor(values).to(getattr(ember, name))
    theirs = torch.tensor(values).to(getattr(torch, name))
    assert ours.dtype is getattr(ember, name) and ours.element_size() == 1
    numpy.testing.assert_array_equal(ours.float().numpy(), theirs.float().numpy())
    assert str(ember.zeros(2, dtype=getattr(ember, name))).replace("ember", "torch") == str(
        torch.zeros(2, dtype=getattr(torch, name)))


@pytest.mark.parametrize("name", ["float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz", "bfloat16"])
def test_strided_views_and_products_of_ml_dtypes_as_torch(name):
    """Strided views of ml_dtypes' types (float8_e5m2's type string "<f1" is one NumPy's as_strided cannot parse)
    and matrix products, which PyTorch computes for float8 and rounds to it (ml_dtypes returns float32)."""
    results = []
    for lib in (torch, ember):
        a = (lib.arange(6.0).reshape(2, 3) / 3).to(getattr(lib, name))
        views = [a.as_strided((2, 2), (1, 2)), a.t().contiguous(), a.diagonal(), a.unfold(1, 2, 1), a @ a.t(),
                 a[0] @ a.t(), a.unsqueeze(0) @ a.t()]
        results.append([(str(v.dtype).split(".")[-1], v.float().tolist()) for v in views])
    assert results[1] == results[0]


FLOAT8_CALLS = ["a + a", "a - 1", "1 + a", "a.add_(a)", "T.add(a, a, alpha=2)", "a.sum()", "a.sum(0)", "a.mean()",
                "a.prod()", "a.nansum()", "a * a", "a.sum(dtype=T.float32)", "a.abs()", "a == a", "a / a", "a / 2",
                "2 / a", "-a", "a * 2.5", "2 * a", "a // a", "a % 2", "T.fmod(a, a)", "a.reciprocal()"]


@pytest.mark.parametrize("call", FLOAT8_CALLS)
@pytest.mark.parametrize("name", ["float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz"])
def test_float8_arithmetic_and_sums_as_torch(name, call):
    """PyTorch's add and sum kernels have no float8 loops (NotImplementedError naming the kernel); products,
    comparisons and sums into another dtype compute."""
    outcomes = []
    for T in (torch, ember):
        a = T.tensor([1.0, 2.0, -0.5]).to(getattr(T, name))  # noqa: F841 (the calls use it)
        try:
            result = eval(call)  # noqa: S307 (the calls above)
            outcomes.append((str(result.dtype).split(".")[-1], result.float().tolist()))
        except NotImplementedError as error:
            outcomes.append(str(error))
    assert outcomes[1] == outcomes[0]
