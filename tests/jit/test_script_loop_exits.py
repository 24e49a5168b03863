"""``break``, ``continue`` and ``return`` in scripted loops, beside torch.jit.script: range loops that stop at a
run-time condition, while loops left by ``break`` (``while True`` too), nested loops whose exits belong to the inner
one, ``continue`` skipping the rest of an iteration, and returns from inside (nested) loops (ember refused all
three)."""
import io
import types
import warnings

import pytest
import torch

import ember
from tests.oracle import assert_same


def _range_break_continue(x, n: int):
    s = x
    for i in range(n):
        if i == 3:
            break
        if i == 1:
            continue
        s = s + i
    return s


def _while_true(x, n: int):
    i = 0
    while True:
        i += 1
        if i > n:
            break
    return x + i


def _nested(x, n: int):
    total = 0
    for i in range(n):
        for j in range(n):
            if j > i:
                break
            if (i + j) % 2 == 1:
                continue
            total += i * j
    return x + total


def _tensor_condition(x, n: int):
    while bool(x.sum() < 100):
        x = x * 3
        if bool(x.max() > 50):
            continue
        x = x + n
    return x


def _break_on_values(x, n: int):
    for i in range(n):
        x = x * 2
        if bool(x.abs().sum() > 20):
            break
        else:
            x = x - 0.5
    return x


def _return_in_range(x, n: int):
    for i in range(n):
        if bool(x[i % 2] > 1):
            return x * i
        x = x + 1
    return x.sum()


def _return_in_while(x, n: int):
    i = 0
    while i < n:
        x = x * 2
        if bool(x.sum() > 30):
            return x - 1
        i += 1
    return x


def _return_in_nested(x, n: int):
    total = x
    for i in range(n):
        for j in range(n):
            if i * j == 2:
                return total * 100
            total = total + j
    return total


FUNCTIONS = [_range_break_continue, _while_true, _nested, _tensor_condition, _break_on_values, _return_in_range,
             _return_in_while, _return_in_nested]


@pytest.mark.parametrize("n", [0, 2, 6])
@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
def test_loop_exits_match_torch(function, n):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # torch 2.13 deprecates torch.jit.script
        expected = torch.jit.script(function)(torch.tensor([1.0, -2.0]), n)
    got = ember.jit.script(_with_ember(function))(ember.tensor([1.0, -2.0]), n)
    assert_same(got, expected)


class _Stepper(ember.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = ember.nn.Linear(2, 2)

    def forward(self, x, steps: int):
        for i in range(steps):
            x = self.linear(x)
            if bool(x.abs().sum() > 5):
                break
        return x


def test_module_with_break_saves_and_loads():
    ember.manual_seed(0)
    module = _Stepper()
    scripted = ember.jit.script(module)
    x = ember.ones(1, 2) * 3
    expected = x
    for _ in range(10):   # the same loop, eagerly
        expected = module.linear(expected)
        if expected.abs().sum() > 5:
            break
    buffer = io.BytesIO()
    ember.jit.save(scripted, buffer)
    buffer.seek(0)
    for result in (scripted(x, 10), ember.jit.load(buffer)(x, 10)):
        assert ember.equal(result, expected)


def _with_ember(function):
    """``function`` with its module's ``torch`` standing for ember."""
    copy = types.FunctionType(function.__code__, {**function.__globals__, "torch": ember}, function.__name__)
    copy.__annotations__ = function.__annotations__
    return copy
