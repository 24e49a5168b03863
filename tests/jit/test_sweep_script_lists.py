"""Lists that scripted code starts empty and grows, beside torch.jit.script: ``out = []`` and
``out: list[Tensor] = []`` then append/extend (ember refused the call on a list display)."""
import types
import warnings

import pytest
import torch

import ember
from tests.oracle import assert_same


def _append(x):
    out = []
    for i in range(3):
        out.append(x * i)
    return out


def _annotated(x):
    out: list[torch.Tensor] = []
    for i in range(2):
        out.append(x + i)
    out.extend([x.sin(), x.cos()])
    return out


def _aliased(x):
    first = [x]
    second = first
    second.append(x * 2)
    return first


def _stacked(x):
    parts = []
    for i in range(3):
        parts.append(x[i] * 2)
    return torch.stack(parts)


def _known_list(x):
    sizes = [2, 3]
    sizes.append(1)
    return x.reshape(sizes)


FUNCTIONS = [_append, _annotated, _aliased, _stacked, _known_list]


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
def test_grown_lists_match_torch(function):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # torch 2.13 deprecates torch.jit.script
        expected = torch.jit.script(function)(torch.arange(6.0))
    # the module's torch is the oracle's; ember's script reads the same source with ember in its place
    got = ember.jit.script(_with_ember(function))(ember.arange(6.0))
    assert_same(got, expected)


def _with_ember(function):
    """``function`` with its module's ``torch`` standing for ember."""
    return types.FunctionType(function.__code__, {**function.__globals__, "torch": ember}, function.__name__)
