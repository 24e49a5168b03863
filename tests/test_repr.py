"""Printing: repr(ember tensor) must equal repr(torch tensor) with "torch." replaced by "ember."."""
import numpy
import pytest
import torch

import ember

_rng = numpy.random.default_rng(0)

VALUES = {
    "float_small": numpy.array([1.5, -2.25, 3.0], numpy.float32),
    "float_integral": numpy.array([1.0, -2.0, 30.0], numpy.float32),
    "float_sci_ratio": numpy.array([1e-3, 5.0], numpy.float32),
    "float_sci_big": numpy.array([1e9, 2.0], numpy.float64),
    "float_sci_tiny": numpy.array([1e-5, 3e-5], numpy.float32),
    "float_nonfinite": numpy.array([numpy.nan, numpy.inf, -numpy.inf, 1.5], numpy.float32),
    "float_only_nonfinite": numpy.array([numpy.nan, numpy.inf], numpy.float32),
    "float_zeros": numpy.zeros(4, numpy.float32),
    "float_integral_nan": numpy.array([1.0, numpy.nan, -3.0], numpy.float32),
    "float_2d": _rng.standard_normal((3, 4)).astype(numpy.float32),
    "float_3d": _rng.standard_normal((2, 3, 2)).astype(numpy.float32),
    "float_wrap": _rng.standard_normal(30).astype(numpy.float32),
    "float_wrap_2d": _rng.standard_normal((2, 25)).astype(numpy.float32),
    "float_summarized": _rng.standard_normal(2000).astype(numpy.float32),
    "float_summarized_2d": _rng.standard_normal((40, 40)).astype(numpy.float32),
    "float_summarized_3d": _rng.standard_normal((20, 10, 10)).astype(numpy.float32),
    "float_big_integral": numpy.array([123456.0, 1.0], numpy.float32),
    "float_integral_sci": numpy.array([1e10, 1.0, -3.0], numpy.float64),
    "float_integral_ratio": numpy.array([1e5, 2e5, 1.0], numpy.float32),
    "float_mixed_scales": numpy.array([[1e-3, 1e2], [5.5, -0.125]], numpy.float64),
    "float_neg_zero": numpy.array([-0.0, 1.0], numpy.float32),
    "float64": numpy.array([0.1, 0.2], numpy.float64),
    "float16": numpy.array([0.1, 1000.0], numpy.float16),
    "float_0d": numpy.array(3.25, numpy.float32),
    "float_0d_int": numpy.array(-2.0, numpy.float32),
    "float64_0d": numpy.array(1e-7, numpy.float64),
    "int64": numpy.array([1, -20, 300], numpy.int64),
    "int64_2d": numpy.arange(12, dtype=numpy.int64).reshape(3, 4) - 5,
    "int64_long": numpy.arange(100, dtype=numpy.int64),
    "int64_summarized": numpy.arange(1500, dtype=numpy.int64),
    "int32": numpy.array([1, 2], numpy.int32),
    "int8": numpy.array([-1, 2], numpy.int8),
    "int16": numpy.array([[1], [2]], numpy.int16),
    "uint8": numpy.array([255, 0], numpy.uint8),
    "int_0d": numpy.array(7, numpy.int64),
    "int32_0d": numpy.array(7, numpy.int32),
    "bool": numpy.array([True, False, True]),
    "bool_2d": numpy.array([[True], [False]]),
    "bool_0d": numpy.array(True),
    "complex64": numpy.array([1 + 2j, -3.5 - 0.25j], numpy.complex64),
    "complex128": numpy.array([1e-5 + 2j, 0j], numpy.complex128),
    "complex_0d": numpy.array(1 - 1j, numpy.complex64),
    "empty": numpy.zeros(0, numpy.float32),
    "empty_int": numpy.zeros(0, numpy.int64),
    "empty_2d": numpy.zeros((0, 3), numpy.float32),
    "empty_2d_int": numpy.zeros((2, 0), numpy.int32),
    "empty_complex": numpy.zeros(0, numpy.complex64),
    "empty_bool": numpy.zeros((0,), bool),
    "noncontiguous": numpy.arange(12, dtype=numpy.float32).reshape(3, 4).T,
    "float_long_suffix": _rng.standard_normal(16).astype(numpy.float64),
}


def _pair(array):
    return ember.tensor(array), torch.tensor(array)


def _same(e, t):
    assert repr(e) == repr(t).replace("torch.", "ember."), f"\n{e!r}\n!=\n{t!r}"
    assert str(e) == str(t).replace("torch.", "ember.")


@pytest.mark.parametrize("name", sorted(VALUES))
def test_repr_matches_torch(name):
    _same(*_pair(VALUES[name]))


def test_bfloat16():
    values = numpy.array([0.5, 1.25, 3.0], numpy.float32)
    _same(ember.tensor(values).bfloat16(), torch.tensor(values).bfloat16())


def test_requires_grad_and_grad_fn():
    values = numpy.array([1.0, 2.0], numpy.float32)
    e, t = ember.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    _same(e, t)
    _same(e * 2, t * 2)
    _same(e + e, t + t)
    values64 = _rng.standard_normal(12)
    e, t = ember.tensor(values64, requires_grad=True), torch.tensor(values64, requires_grad=True)
    _same(e * 3, t * 3)


@pytest.mark.parametrize("options", [dict(precision=2), dict(threshold=5), dict(edgeitems=1, threshold=10),
                                     dict(linewidth=40), dict(sci_mode=True), dict(sci_mode=False),
                                     dict(profile="short"), dict(profile="full"), dict(edgeitems=0, threshold=3)])
def test_printoptions(options):
    try:
        ember.set_printoptions(**options)
        torch.set_printoptions(**options)
        for name in ("float_small", "float_sci_ratio", "float_2d", "int64_long", "float_summarized_2d",
                     "float_wrap", "bool", "complex64"):
            _same(*_pair(VALUES[name]))
    finally:
        ember.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")


def test_default_dtype_float64_changes_suffixes():
    try:
        ember.set_default_dtype(ember.float64)
        torch.set_default_dtype(torch.float64)
        for array in (numpy.array([1.5]), numpy.array([1.5], numpy.float32), numpy.array([1j], numpy.complex128),
                      numpy.array([1j], numpy.complex64), numpy.zeros(0)):
            _same(*_pair(array))
    finally:
        ember.set_default_dtype(ember.float32)
        torch.set_default_dtype(torch.float32)


def test_printoptions_context_manager_restores():
    with ember._tensor_str.printoptions(precision=1):
        assert repr(ember.tensor([1.25])) == "tensor([1.2])"
    assert repr(ember.tensor([1.25])) == "tensor([1.2500])"
    assert ember._tensor_str.get_printoptions()["precision"] == 4


def test_size_and_dtype_repr():
    assert repr(ember.zeros(2, 3).shape) == "ember.Size([2, 3])"
    assert repr(ember.float64) == "ember.float64"


def test_module_list_groups_children_that_print_alike_as_pytorch():
    def build(library):
        nn = library.nn
        return [nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 3), nn.Linear(2, 3),
                               nn.Linear(2, 3)]),
                nn.ModuleList(), nn.ModuleList([nn.ReLU()]),
                nn.ModuleList([nn.Sequential(nn.Linear(2, 3), nn.ReLU()), nn.Sequential(nn.Linear(2, 3), nn.ReLU())]),
                nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 3, enable_nested_tensor=False)]
    for ours, theirs in zip(build(ember), build(torch)):
        assert repr(ours) == repr(theirs)


def test_tensor_str_and_add_suffixes():
    """``torch._tensor_str._tensor_str`` (a tensor's bracketed values; PyG's OFF writer prints positions with it) and
    ``_add_suffixes`` with ``force_newline``, as PyTorch's."""
    import torch._tensor_str as theirs

    import ember._tensor_str as ours
    x = numpy.arange(12, dtype=numpy.float32).reshape(3, 4) / 3
    for indent in (0, 4):
        assert ours._tensor_str(ember.tensor(x), indent) == theirs._tensor_str(torch.tensor(x), indent)
    assert ours._tensor_str(ember.tensor([], dtype=ember.int64), 0) == "[]"
    for force in (False, True):
        assert ours._add_suffixes("tensor([1, 2]", ["dtype=torch.int32", "x=1"], 7, force) == \
            theirs._add_suffixes("tensor([1, 2]", ["dtype=torch.int32", "x=1"], 7, force)
