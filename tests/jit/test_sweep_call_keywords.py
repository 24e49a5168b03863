"""Calling traced and scripted modules and functions by keyword, as PyTorch binds a call to the method's schema:
graph inputs take the traced function's parameter names, and wrong calls raise PyTorch's messages."""
import warnings

import numpy
import pytest
import torch

import ember
from tests.oracle import assert_same


def _pair_module(lib):
    class Pair(lib.nn.Module):
        def forward(self, x, y):
            return x * 2 + y

    return Pair()


def _scale(x, y):
    return x * y


def _compile(lib, kind, target):
    """``target`` traced or scripted by ``lib``, torch 2.13's deprecation warnings silenced."""
    a, b = lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return lib.jit.trace(target, (a, b)) if kind == "trace" else lib.jit.script(target)


def _target(lib, which):
    return _pair_module(lib) if which == "module" else _scale


CALLS = {
    "positional": lambda lib, m: m(lib.tensor([1.0, -1.0]), lib.tensor([0.5, 2.0])),
    "second_by_keyword": lambda lib, m: m(lib.tensor([1.0, -1.0]), y=lib.tensor([0.5, 2.0])),
    "all_by_keyword": lambda lib, m: m(y=lib.tensor([1.0, -1.0]), x=lib.tensor([0.5, 2.0])),
}


@pytest.mark.parametrize("kind", ["trace", "script"])
@pytest.mark.parametrize("which", ["module", "function"])
@pytest.mark.parametrize("call", sorted(CALLS))
def test_keyword_calls_match_torch(kind, which, call):
    got = CALLS[call](ember, _compile(ember, kind, _target(ember, which)))
    expected = CALLS[call](torch, _compile(torch, kind, _target(torch, which)))
    assert_same(got, expected)


BAD_CALLS = {
    "missing": lambda lib, m: m(lib.ones(1)),
    "missing_first": lambda lib, m: m(y=lib.ones(1)),
    "unknown_keyword": lambda lib, m: m(lib.ones(1), z=lib.ones(1)),
    "keyword_repeats_positional": lambda lib, m: m(lib.ones(1), x=lib.ones(1)),
    "too_many": lambda lib, m: m(lib.ones(1), lib.ones(1), lib.ones(1)),
    "too_many_with_keyword": lambda lib, m: m(lib.ones(1), lib.ones(1), x=lib.ones(1)),
}


@pytest.mark.parametrize("kind", ["trace", "script"])
@pytest.mark.parametrize("call", sorted(BAD_CALLS))
def test_wrong_calls_raise_torchs_messages(kind, call):
    with pytest.raises(RuntimeError) as expected:
        BAD_CALLS[call](torch, _compile(torch, kind, _pair_module(torch)))
    with pytest.raises(RuntimeError) as got:
        BAD_CALLS[call](ember, _compile(ember, kind, _pair_module(ember)))
    assert str(got.value) == str(expected.value).split(". Declaration:")[0]


def test_traced_code_names_inputs_after_the_parameters():
    traced = _compile(ember, "trace", _scale)
    assert traced.code.startswith("def forward(self, x: Tensor, y: Tensor):")
    assert [v.name for v in traced.graph.inputs] == ["x", "y"]


def test_keyword_calls_survive_save_and_load(tmp_path):
    traced = _compile(ember, "trace", _pair_module(ember))
    ember.jit.save(traced, str(tmp_path / "pair.pt"))
    loaded = ember.jit.load(str(tmp_path / "pair.pt"))
    x, y = numpy.array([1.0, 2.0], numpy.float32), numpy.array([0.5, 0.25], numpy.float32)
    got = loaded(y=ember.from_numpy(y), x=ember.from_numpy(x))
    numpy.testing.assert_array_equal(got.numpy(), x * 2 + y)
