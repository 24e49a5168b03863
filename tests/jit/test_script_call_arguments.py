"""Calls into scripted code beside torch.jit.script: parameters with defaults take the values a call gives them
(ember held them as constants and refused the call), and arguments are checked against their parameters' types
with TorchScript's errors."""
import warnings

import pytest
import torch

import ember
from tests.oracle import assert_same


def _module(lib):
    class Repeat(lib.nn.Module):
        def forward(self, x, n: int = 2, scale: float = 1.0):
            for _ in range(n):
                x = x * scale + 1
            return x
    return Repeat()


def _function_source():
    return '''
def scaled(x, n: int = 1, scale: float = 2.0, flag: bool = False):
    if flag:
        return x * scale - n
    return x * scale + n
'''


def _scripted(lib, which):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # torch 2.13 deprecates torch.jit.script
        if which == "module":
            return lib.jit.script(_module(lib))
        scope = {}
        exec(compile(_function_source(), f"<{lib.__name__}_scaled>", "exec"), scope)   # noqa: S102
        return _script_from_source(lib, scope["scaled"], _function_source())


def _script_from_source(lib, function, source):
    """torch.jit.script and ember.jit.script read a function's source from its file: write it to a real one."""
    import importlib.util
    import pathlib
    import tempfile
    folder = pathlib.Path(tempfile.mkdtemp())
    path = folder / f"scaled_{lib.__name__}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return lib.jit.script(module.scaled)


GOOD_CALLS = {   # (scripted target, call)
    ("module", "defaults"): lambda lib, f: f(lib.ones(2)),
    ("module", "positional"): lambda lib, f: f(lib.ones(2), 3, 2.0),
    ("module", "keyword"): lambda lib, f: f(lib.ones(2), scale=0.5),
    ("module", "int_for_float"): lambda lib, f: f(lib.ones(2), 1, 3),
    ("module", "bool_for_int"): lambda lib, f: f(lib.ones(2), True),
    ("module", "repeated"): lambda lib, f: [f(lib.ones(2), 3, 2.0), f(lib.ones(2), 3, 2.0), f(lib.ones(2), 1, 2.0)],
    ("function", "defaults"): lambda lib, f: f(lib.ones(2)),
    ("function", "flag"): lambda lib, f: f(lib.ones(2), 3, 2.5, True),
    ("function", "keywords"): lambda lib, f: f(lib.ones(2), flag=True, n=4),
    ("function", "int_for_bool"): lambda lib, f: f(lib.ones(2), flag=1),
}


@pytest.mark.parametrize("which, call", sorted(GOOD_CALLS))
def test_defaulted_parameters_take_given_values(which, call):
    got = GOOD_CALLS[which, call](ember, _scripted(ember, which))
    expected = GOOD_CALLS[which, call](torch, _scripted(torch, which))
    assert_same(got, expected)


BAD_CALLS = {
    "str_for_float": lambda lib, f: f(lib.ones(2), 1, "a"),
    "float_for_int": lambda lib, f: f(lib.ones(2), 1.5),
    "number_for_tensor": lambda lib, f: f(3.0),
    "keyword_type": lambda lib, f: f(lib.ones(2), n=2.5),
    "too_many": lambda lib, f: f(lib.ones(2), 1, 1.0, True, 3),
    "unknown_keyword": lambda lib, f: f(lib.ones(2), steps=3),
}


@pytest.mark.parametrize("which", ["module", "function"])
@pytest.mark.parametrize("call", sorted(BAD_CALLS))
def test_wrong_arguments_raise_torchs_errors(call, which):
    with pytest.raises(RuntimeError) as expected:
        BAD_CALLS[call](torch, _scripted(torch, which))
    with pytest.raises(RuntimeError) as got:
        BAD_CALLS[call](ember, _scripted(ember, which))
    text = str(expected.value)
    for cut in ("\nDeclaration:", ". Declaration:", ". Schema:"):
        text = text.split(cut)[0]
    assert str(got.value) == text
