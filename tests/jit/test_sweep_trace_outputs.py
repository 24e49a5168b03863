"""What a traced function may take and return, beside torch.jit.trace: dicts of str keys as outputs with
strict=False (a dict under strict raises), and PyTorch's errors for None, plain values and dicts it cannot type, and
for example inputs that are not tensors or (nested) tuples and lists of them."""
import io
import warnings

import numpy
import pytest
import torch

import ember
from tests.oracle import assert_same


def _trace(lib, fn, strict):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch 2.13 deprecates torch.jit.trace; its repr of a traced value warns
        return lib.jit.trace(fn, lib.tensor([1.0, -2.0]), strict=strict)


OUTPUTS = {
    "dict": lambda x: {"a": x + 1, "b": x * 2},
    "dict_of_tuples": lambda x: {"a": (x + 1, x), "b": (x * 2, x.exp())},
    "dict_in_tuple": lambda x: (x.sin(), {"logits": x * 3}),
}


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_dict_outputs_trace_with_strict_false(name):
    x = numpy.array([0.5, 3.0], numpy.float32)
    got = _trace(ember, OUTPUTS[name], False)(ember.from_numpy(x))
    expected = _trace(torch, OUTPUTS[name], False)(torch.from_numpy(x))
    assert type(got) is type(expected)
    _assert_same_nested(got, expected)


def _assert_same_nested(got, expected):
    if isinstance(expected, dict):
        assert isinstance(got, dict) and list(got) == list(expected)
        for key in expected:
            _assert_same_nested(got[key], expected[key])
    elif isinstance(expected, (tuple, list)):
        assert type(got) is type(expected) and len(got) == len(expected)
        for g, e in zip(got, expected):
            _assert_same_nested(g, e)
    else:
        assert_same(got, expected)


def test_dict_output_survives_save_and_load():
    traced = _trace(ember, OUTPUTS["dict_in_tuple"], False)
    buffer = io.BytesIO()
    ember.jit.save(traced, buffer)
    buffer.seek(0)
    loaded = ember.jit.load(buffer)
    x = ember.tensor([2.0, 0.0])
    assert list(loaded(x)[1]) == ["logits"]
    numpy.testing.assert_array_equal(loaded(x)[1]["logits"].numpy(), [6.0, 0.0])


BAD = {
    "dict_under_strict": (lambda x: {"a": x}, True),
    "dict_nested_under_strict": (lambda x: (x, {"a": x}), True),
    "none": (lambda x: None, False),
    "int": (lambda x: 3, False),
    "mixed_dict_values": (lambda x: {"a": x, "b": (x, x)}, False),
    "mixed_list_items": (lambda x: [x, (x, x)], False),
    "mixed_list_of_dicts": (lambda x: [{"a": x}, x], False),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_unsupported_outputs_raise_torchs_errors(name):
    fn, strict = BAD[name]
    with pytest.raises(RuntimeError) as expected:
        _trace(torch, fn, strict)
    with pytest.raises(RuntimeError) as got:
        _trace(ember, fn, strict)
    # the text after the first line names the offending value, printed by each library
    assert str(got.value).split("\n")[-1] == str(expected.value).split("\n")[-1]


@pytest.mark.parametrize("fn", [lambda x: {"a": 1}, lambda x: {1: x}], ids=["int_value", "int_key"])
def test_dicts_torch_cannot_type_are_refused(fn):
    with pytest.raises(RuntimeError, match=r"only outputs matching dict\[Union\[str, Tensor\]"):
        _trace(torch, fn, False)
    with pytest.raises(RuntimeError, match=r"only outputs matching dict\[Union\[str, Tensor\]"):
        _trace(ember, fn, False)


INPUTS = {
    "int": lambda lib: (lib.ones(2), 3),
    "none": lambda lib: (lib.ones(2), None),
    "str": lambda lib: ("s",),
    "nested_bool": lambda lib: (lib.ones(2), (lib.ones(2), True)),
    "mixed_list": lambda lib: (lib.ones(2), [lib.ones(2), 2.0]),
}


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_untraceable_inputs_raise_torchs_errors(name):
    def first(*args):
        return args[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError) as expected:
            torch.jit.trace(first, INPUTS[name](torch))
    with pytest.raises(RuntimeError) as got:
        ember.jit.trace(first, INPUTS[name](ember))
    # the text after the first line names the offending value, printed by each library
    assert str(got.value).split("\n")[-1] == str(expected.value).split("\n")[-1]


def test_dict_inputs_are_refused_plainly():
    with pytest.raises(RuntimeError, match="dict example inputs are not supported"):
        ember.jit.trace(lambda d: d["a"], ({"a": ember.ones(1)},))
