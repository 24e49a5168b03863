"""finfo and iinfo against PyTorch's: every attribute and the printed form of each floating and integer dtype, the
default dtype, complex dtypes' real part, and the errors for the wrong kind of dtype."""
import pytest
import torch

import ember

FLOATS = ["float16", "bfloat16", "float32", "float64", "complex64", "complex128", "float8_e4m3fn", "float8_e4m3fnuz",
          "float8_e5m2", "float8_e5m2fnuz", "float8_e8m0fnu"]
INTEGERS = ["uint8", "int8", "int16", "int32", "int64"]


@pytest.mark.parametrize("name", FLOATS + [None])
def test_finfo_matches_torch(name):
    ours = ember.finfo() if name is None else ember.finfo(getattr(ember, name))
    theirs = torch.finfo() if name is None else torch.finfo(getattr(torch, name))
    for attribute in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
        assert type(getattr(ours, attribute)) is type(getattr(theirs, attribute)), attribute
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("name", INTEGERS)
def test_iinfo_matches_torch(name):
    ours, theirs = ember.iinfo(getattr(ember, name)), torch.iinfo(getattr(torch, name))
    assert (ours.bits, ours.min, ours.max, ours.dtype) == (theirs.bits, theirs.min, theirs.max, theirs.dtype)
    assert repr(ours) == repr(theirs)


def test_the_wrong_kind_raises_as_torch():
    for lib in (ember, torch):
        with pytest.raises(TypeError, match="finfo\\(\\) requires a floating point input type"):
            lib.finfo(lib.int32)
        with pytest.raises(TypeError, match="iinfo\\(\\) requires an integer input type"):
            lib.iinfo(lib.float32)
    default = ember.get_default_dtype()
    ember.set_default_dtype(ember.float64)
    try:
        assert ember.finfo().dtype == "float64"
    finally:
        ember.set_default_dtype(default)


def test_finfo_needs_no_ml_dtypes():
    """bfloat16's and the float8 types' limits are PyTorch's constants: libraries read them at import (transformers'
    float8 cache layer), where ml_dtypes, ember's optional storage for these types, may be missing."""
    import subprocess
    import sys
    code = ("import sys; sys.modules['ml_dtypes'] = None\nimport ember\n"
            "print([repr(ember.finfo(getattr(ember, n))) for n in %r])" % (FLOATS,))
    ours = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert ours.strip() == str([repr(torch.finfo(getattr(torch, n))) for n in FLOATS])
