"""Argument forms, as a second differential sweep against PyTorch 2.13 found them: ``torch.flip`` takes a tuple of
dims only (the method also separate ints), a bool is no dim for any op (PyTorch's parser refuses it), empty matrices
through ``linalg.inv_ex``, the 1-d FFTs' ``n`` (-1 is no size there); each case run on both libraries and compared."""
import numpy
import pytest
import torch

import ember


def outcome(fn, lib):
    """What ``fn(lib)`` gives: tensors' dtypes, shapes and values, or the exception's type and message's first line
    (the parser's list of signatures follows it)."""
    try:
        result = fn(lib)
    except Exception as error:   # noqa: BLE001 - the error is the result compared
        return type(error).__name__, str(error).split("\n")[0]
    results = result if isinstance(result, tuple) else (result,)
    return [(str(r.dtype).split(".")[1], tuple(r.shape), r.tolist()) for r in results]


def check(fn):
    assert outcome(fn, ember) == outcome(fn, torch)


def x(lib):
    return lib.arange(6.0).reshape(2, 3)


FLIPS = {
    "torch.flip int": lambda L: L.flip(x(L), 0),
    "torch.flip tuple": lambda L: L.flip(x(L), (0,)),
    "torch.flip list": lambda L: L.flip(x(L), [0, 1]),
    "torch.flip None": lambda L: L.flip(x(L), None),
    "torch.flip float": lambda L: L.flip(x(L), 1.0),
    "torch.flip keyword int": lambda L: L.flip(x(L), dims=1),
    "method int": lambda L: x(L).flip(0),
    "method called from the class, int": lambda L: L.Tensor.flip(x(L), 1),
    "method ints": lambda L: x(L).flip(0, 1),
    "method list": lambda L: x(L).flip([0]),
    "method None": lambda L: x(L).flip(None),
    "method bool": lambda L: x(L).flip(True),
    "method keyword int": lambda L: x(L).flip(dims=0),
    "method keyword tuple": lambda L: x(L).flip(dims=(0,)),
    "0-d": lambda L: L.flip(x(L)[0, 0], ()),
}


@pytest.mark.parametrize("name", FLIPS)
def test_flip_dims(name):
    check(FLIPS[name])


BOOL_DIMS = {
    "sum": lambda L: L.sum(x(L), True),
    "sum tuple": lambda L: x(L).sum(dim=(True,)),
    "mean": lambda L: x(L).mean(False),
    "cat": lambda L: L.cat([x(L), x(L)], True),
    "stack": lambda L: L.stack([x(L), x(L)], False),
    "softmax": lambda L: x(L).softmax(True),
    "cumsum": lambda L: L.cumsum(x(L), True),
    "transpose": lambda L: x(L).transpose(True, 0),
    "select": lambda L: L.select(x(L), True, 1),
    "unbind": lambda L: x(L).unbind(True),
    "squeeze": lambda L: L.squeeze(x(L), True),
    "argmax": lambda L: L.argmax(x(L), True),
    "max": lambda L: x(L).max(True),
    "flip tuple": lambda L: L.flip(x(L), (True,)),
    "int dim still works": lambda L: L.sum(x(L), 1),
}


@pytest.mark.parametrize("name", BOOL_DIMS)
def test_a_bool_is_no_dim(name):
    check(BOOL_DIMS[name])


@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 0), (0, 2, 2)])
def test_inv_ex_of_empty_matrices(shape):
    check(lambda L: tuple(L.linalg.inv_ex(L.zeros(shape))))


@pytest.mark.parametrize("name", ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"])
@pytest.mark.parametrize("n", [-1, 0, 1, 3, 8])
def test_fft_n_counts_points(name, n):
    check(lambda L: L.tensor(getattr(L.fft, name)(L.arange(6.0), n=n).shape))   # (values: within rounding)


ROLLS = {
    "empty dims": lambda L: L.roll(x(L), 1, ()),
    "empty list dims": lambda L: L.roll(x(L), [1], []),
    "two shifts, no dims": lambda L: L.roll(x(L), (1, 2)),
    "no shifts": lambda L: L.roll(x(L), (), ()),
    "aligned": lambda L: L.roll(x(L), (1, 2), (0, 1)),
    "flattened": lambda L: L.roll(x(L), (1,)),
}


@pytest.mark.parametrize("name", ROLLS)
def test_roll_dims(name):
    check(ROLLS[name])


@pytest.mark.parametrize("dims", [(0, 1), (0, 0), [0, -2], (-1,), (0,), ()])
def test_flip_checks_a_0d_inputs_dims(dims):
    check(lambda L: L.flip(x(L)[0, 0], dims))


INT_ARGUMENTS = {
    "diag": lambda L: L.diag(x(L)[0], True),
    "diag 2-d": lambda L: L.diag(x(L), 1),
    "diag_embed": lambda L: L.diag_embed(x(L), True),
    "diag_embed float": lambda L: L.diag_embed(x(L), 1.5),
    "diagflat": lambda L: L.diagflat(x(L), True),
    "roll": lambda L: L.roll(x(L), True),
    "roll tuple": lambda L: L.roll(x(L), (True,), 0),
    "roll float": lambda L: L.roll(x(L), 2.5),
    "roll 0-d tensor": lambda L: L.roll(x(L), L.tensor(1)),
    "roll NumPy int": lambda L: L.roll(x(L), numpy.int64(2)),
    "roll tensor in a list": lambda L: L.roll(x(L), [L.tensor(1)], [0]),
    "kthvalue": lambda L: x(L).kthvalue(True),
    "kthvalue int": lambda L: tuple(x(L).kthvalue(2)),
}


@pytest.mark.parametrize("name", INT_ARGUMENTS)
def test_a_bool_is_no_int_argument(name):
    check(INT_ARGUMENTS[name])
