"""Python's abs, max and min in scripted code on values known only at run time, beside torch.jit.script: on int
inputs (abs raised AttributeError, max/min were refused) and abs on tensors, with its gradient."""
import io
import warnings

import numpy
import pytest
import torch

import ember


def _abs_int(n: int) -> int:
    return abs(-n) + abs(n - 10)


def _max_min(n: int, m: int) -> int:
    return max(n, m) * 10 + min(n, m)


def _abs_tensor(x, n: int):
    return abs(x) * n


def _script(lib, function):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # torch 2.13 deprecates torch.jit.script
        return lib.jit.script(function)


@pytest.mark.parametrize("function, args", [(_abs_int, (7,)), (_abs_int, (-3,)), (_max_min, (3, 5)),
                                            (_max_min, (9, -2))], ids=lambda v: getattr(v, "__name__", str(v)))
def test_builtins_on_ints_match_torch(function, args):
    expected = _script(torch, function)(*args)
    scripted = _script(ember, function)
    got = scripted(*args)
    assert got == expected and type(got) is type(expected)
    buffer = io.BytesIO()
    ember.jit.save(scripted, buffer)
    buffer.seek(0)
    assert ember.jit.load(buffer)(*args) == expected


def test_abs_of_a_tensor_matches_torch_with_its_gradient():
    values = numpy.array([-1.5, 0.5, 2.0], numpy.float32)
    x, tx = ember.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    got, expected = _script(ember, _abs_tensor)(x, 3), _script(torch, _abs_tensor)(tx, 3)
    numpy.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy())
    got.sum().backward()
    expected.sum().backward()
    numpy.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
