"""cuda.OutOfMemoryError exists as PyTorch's does, so except clauses naming it work on any machine."""
import importlib.util

import pytest

import ember


def test_out_of_memory_error_can_be_caught():
    with pytest.raises(ember.cuda.OutOfMemoryError):
        raise ember.cuda.OutOfMemoryError("out of memory")


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy's own error is used where installed")
def test_without_cupy_it_is_a_runtime_error_as_pytorchs():
    assert issubclass(ember.cuda.OutOfMemoryError, RuntimeError)
