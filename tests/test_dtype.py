"""Dtypes and PyTorch's type promotion: promote_types over every pair, result_type and the dtype of ``a + b`` for
tensors, 0-d tensors and Python scalars, compared with torch (bfloat16 through ml_dtypes)."""
import itertools
import pickle
import warnings

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
