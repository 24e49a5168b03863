"""``Tensor.to``'s three argument forms (device, dtype, non_blocking, copy), (dtype, non_blocking, copy), (tensor,
non_blocking, copy): what each gives, and PyTorch 2.13's exception and message for arguments no form takes."""
import pytest
import torch

import ember


def _args(lib, spec):
    """The arguments ``spec`` names, in ``lib``: 'f32' a dtype, 'T' a float64 tensor, 'cl' channels_last."""
    named = {"f32": lib.float32, "f64": lib.float64, "T": lib.zeros(1, dtype=lib.float64), "cl": lib.channels_last}
    return tuple(named.get(a, a) if isinstance(a, str) else a for a in spec)


GOOD = [("cpu",), ("f64",), ("cpu", "f64"), (None,), ("cpu", None), (None, "f64"), ("T",), (float,), (int,),
        ("f64", False, True), ("cpu", "f32", False, True), ("cpu", "f64", True), ("T", False, True)]


@pytest.mark.parametrize("spec", GOOD)
def test_forms_as_torch(spec):
    ours, theirs = ember.ones(2, 3), torch.ones(2, 3)
    got, want = ours.to(*_args(ember, spec)), theirs.to(*_args(torch, spec))
    assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1]
    assert (got is ours) == (want is theirs)   # a copy exactly where torch copies (copy=True, or a new dtype)


BAD = [("cpu", "float"), ("cpu", "f32", "x"), ("T", "cpu"), ("f32", "f32"), ("cpu", 3), ("f32", 2), ("T", 2),
       ([1],), ("cpu", "f32", True, True, 5), ("cpu", "f32", False, False, "cl", 1), ("cpu", "f32", 1)]


@pytest.mark.parametrize("spec", BAD)
def test_bad_positional_forms_raise_torchs_type_error(spec):
    with pytest.raises(TypeError) as theirs:
        torch.ones(2).to(*_args(torch, spec))
    with pytest.raises(TypeError) as ours:
        ember.ones(2).to(*_args(ember, spec))
    assert str(ours.value).splitlines()[0] == str(theirs.value).splitlines()[0]


@pytest.mark.parametrize("kwargs", [{"device": "cpu", "dtype": "float"}, {"dtype": 5}, {"copy": 1},
                                    {"non_blocking": "yes"}])
def test_bad_keywords_raise_type_error(kwargs):
    with pytest.raises(TypeError):
        torch.ones(2).to(**kwargs)
    with pytest.raises(TypeError, match="to\\(\\)"):
        ember.ones(2).to(**kwargs)


def test_a_device_string_that_is_no_device_raises_runtime_error():
    with pytest.raises(RuntimeError, match="device string: float") as theirs:
        torch.ones(2).to("float")
    with pytest.raises(RuntimeError) as ours:
        ember.ones(2).to("float")
    assert str(ours.value) == str(theirs.value)
