"""Bad input to jit.load, jit.script and jit.optimize_for_inference: PyTorch's exception types and messages."""
import warnings

import pytest
import torch

import ember


def _same_error(fn):
    """``fn(lib)`` raises the same exception type and message on torch and ember."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # torch 2.13 deprecates torch.jit
        with pytest.raises(Exception) as expected:
            fn(torch)
    with pytest.raises(type(expected.value)) as got:
        fn(ember)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_load_of_a_missing_file_or_a_directory_raises_value_error(tmp_path, kind):
    path = str(tmp_path / "absent.pt") if kind == "missing" else str(tmp_path)
    _same_error(lambda lib: lib.jit.load(path))


def test_script_without_source_raises_os_error():
    namespace = {"__name__": __name__}
    exec("def no_source(x):\n    return x + 1\n", namespace)   # noqa: S102  (a function inspect cannot read)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(OSError) as expected:
            torch.jit.script(namespace["no_source"])
    with pytest.raises(OSError) as got:
        ember.jit.script(namespace["no_source"])
    assert str(got.value) == str(expected.value)   # both name the one function object


def test_optimize_for_inference_refuses_a_plain_module():
    _same_error(lambda lib: lib.jit.optimize_for_inference(lib.nn.Linear(2, 2)))


@pytest.mark.parametrize("make", [lambda lib: lib.nn.Linear(2, 2), lambda lib: 3], ids=["module", "int"])
def test_save_of_what_is_not_scripted_raises_attribute_error(tmp_path, make):
    path = str(tmp_path / "m.pt")
    _same_error(lambda lib: lib.jit.save(make(lib), path))


@pytest.mark.parametrize("value", [3, 2.5, "abc", None], ids=repr)
def test_script_of_a_builtin_value_raises_type_error(value):
    _same_error(lambda lib: lib.jit.script(value))
