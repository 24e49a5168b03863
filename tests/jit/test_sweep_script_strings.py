"""Strings built in scripted code from values known only at run time: f-strings and str.format run as
TorchScript's aten::format, as torch.jit.script's do (an f-string over an input returned its own source text)."""
import io
import warnings

import pytest
import torch

import ember


def _f_string(x, n: int) -> str:
    return f"n={n} {{braces}} rows={x.size(0)}"


def _f_string_known(x, n: int) -> str:
    return f"const {3}"


def _str_format(x, n: int) -> str:
    return "n={} and {}".format(n, n + 1)   # noqa: UP032  (str.format is what this tests)


def _message(x, n: int) -> str:
    if n > 2:
        return "big: {}".format(n * 2)   # noqa: UP032
    return f"small: {n}"


FUNCTIONS = [_f_string, _f_string_known, _str_format, _message]


def _script(lib, function):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # torch 2.13 deprecates torch.jit.script
        return lib.jit.script(function)


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("n", [1, 7])
def test_strings_match_torch(function, n):
    expected = _script(torch, function)(torch.ones(3), n)
    scripted = _script(ember, function)
    assert scripted(ember.ones(3), n) == expected
    buffer = io.BytesIO()
    ember.jit.save(scripted, buffer)
    buffer.seek(0)
    assert ember.jit.load(buffer)(ember.ones(3), n) == expected


def _with_spec(x, n: int) -> str:
    return f"{n:>4}"


def test_format_specs_are_refused():
    with pytest.raises(Exception, match="Don't support formatting in JoinedStr"):   # torch's NotSupportedError
        _script(torch, _with_spec)
    with pytest.raises(RuntimeError, match="format spec"):
        ember.jit.script(_with_spec)
