"""``out=`` of the factories and ranges (zeros, ones, empty, full, eye, arange, range, linspace, logspace) as
PyTorch's: the result is written into ``out`` (resized when its shape differs) and ``out`` is returned, in ``out``'s
dtype when none is given, with PyTorch's errors for another dtype and for an ``out`` that requires grad."""
import warnings

import pytest
import torch

import ember

CASES = [("zeros", ((2, 3),)), ("ones", ((2, 3),)), ("full", ((2, 3), 2.5)), ("eye", (2, 3)), ("eye", (3,)),
         ("arange", (1, 7, 2)), ("arange", (4,)), ("range", (0, 4, 2)), ("linspace", (0, 1, 5)),
         ("logspace", (0, 1, 4))]


def _outcome(call):
    try:
        return call()
    except Exception as error:   # the exception's type and message are compared
        return type(error).__name__, str(error)


@pytest.mark.parametrize("name, args", CASES, ids=[f"{name}{args}" for name, args in CASES])
@pytest.mark.parametrize("dtype, shape", [("int64", (0,)), ("float64", (0,)), ("float32", (6,)), ("float64", (2, 3))])
def test_factory_writes_into_out(name, args, dtype, shape):
    def run(lib):
        out = lib.zeros(shape, dtype=getattr(lib, dtype))
        with warnings.catch_warnings():   # range's deprecation; resizing a non-empty out
            warnings.simplefilter("ignore")
            result = getattr(lib, name)(*args, out=out)
        return result is out, str(out.dtype).rpartition(".")[2], out.tolist()

    assert run(ember) == run(torch)


@pytest.mark.parametrize("name, args", CASES, ids=[f"{name}{args}" for name, args in CASES])
def test_factory_out_errors(name, args):
    def run(lib):
        found = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for dtype in (lib.float64, lib.float32):   # out is float32: a float64 dtype is refused
                out = lib.zeros(0)
                found.append(_outcome(lambda: (getattr(lib, name)(*args, out=out, dtype=dtype), out.tolist())[1]))
            out = lib.zeros(0, requires_grad=True)
            found.append(_outcome(lambda: getattr(lib, name)(*args, out=out))[0])
        return found

    assert run(ember) == run(torch)
