"""PyTorch's deprecated signatures with a positional scalar factor (``x.add_(alpha, other)``, ``torch.addmm(beta,
input, alpha, mat1, mat2)``, ...) against PyTorch: results, in-place writes, out=, gradients, the calls that are not
such a signature, and the warning (torch's text, once per process)."""
import json
import subprocess
import sys
import warnings

import numpy
import pytest

import ember
from ember.ops import _util

from ..oracle import check, check_error, sample


@pytest.fixture(autouse=True)
def fresh_process():
    """Each test starts as a fresh process would: nothing has warned yet."""
    saved = set(_util._warned)
    _util._warned.clear()
    yield
    _util._warned.clear()
    _util._warned.update(saved)


def quiet(fn):
    """``fn`` with warnings ignored (torch warns once per process, whichever sample is first)."""
    def run(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    return run


X, Y = sample((2, 3), numpy.float64), sample((2, 3), numpy.float64, seed=1) + 2
M, A, B = sample((2, 2), numpy.float64), sample((2, 3), numpy.float64, seed=2), sample((3, 2), numpy.float64, seed=3)
V2, V3 = sample((2,), numpy.float64, seed=4), sample((3,), numpy.float64, seed=5)
BM, B1, B2 = sample((4, 2, 2), numpy.float64), sample((4, 2, 3), numpy.float64), sample((4, 3, 2), numpy.float64)

CALLS = {
    "torch.add": (lambda L, x, y: L.add(x, 2, y), X, Y),
    "torch.add out=": (lambda L, x, y: L.add(x, -0.5, y, out=L.empty(2, 3, dtype=L.float64)), X, Y),
    "torch.add other=": (lambda L, x, y: L.add(x, 2, other=y), X, Y),
    "torch.add 0-d alpha": (lambda L, x, y: L.add(x, L.tensor(3.0), y), X, Y),
    "torch.add number other": (lambda L, x: L.add(x, 2, 3), X),
    "Tensor.add": (lambda L, x, y: x.add(2, y), X, Y),
    "Tensor.add_": (lambda L, x, y: x.clone().add_(-0.25, y), X, Y),
    "Tensor.sub": (lambda L, x, y: x.sub(2, y), X, Y),
    "Tensor.sub_": (lambda L, x, y: x.clone().sub_(2, y), X, Y),
    "torch.sub": (lambda L, x, y: L.sub(x, 2, y), X, Y),
    "torch.addcmul": (lambda L, x, y: L.addcmul(x, 2, y, y), X, Y),
    "Tensor.addcmul_": (lambda L, x, y: x.clone().addcmul_(0.5, y, x), X, Y),
    "torch.addcdiv": (lambda L, x, y: L.addcdiv(x, 2, x, y), X, Y),
    "Tensor.addcdiv_": (lambda L, x, y: x.clone().addcdiv_(-3, x, y), X, Y),
    "torch.addmm": (lambda L, m, a, b: L.addmm(2, m, 3, a, b), M, A, B),
    "torch.addmm no alpha": (lambda L, m, a, b: L.addmm(2, m, a, b), M, A, B),
    "Tensor.addmm": (lambda L, m, a, b: m.addmm(2, 3, a, b), M, A, B),
    "Tensor.addmm_": (lambda L, m, a, b: m.clone().addmm_(2, a, b), M, A, B),
    "torch.addmv": (lambda L, v, a, w: L.addmv(2, v, 3, a, w), V2, A, V3),
    "Tensor.addmv_": (lambda L, v, a, w: v.clone().addmv_(2, 3, a, w), V2, A, V3),
    "torch.addr": (lambda L, x, v, w: L.addr(2, x, v, w), X, V2, V3),
    "Tensor.addr": (lambda L, x, v, w: x.addr(2, 3, v, w), X, V2, V3),
    "torch.baddbmm": (lambda L, m, b1, b2: L.baddbmm(2, m, 3, b1, b2), BM, B1, B2),
    "Tensor.baddbmm_": (lambda L, m, b1, b2: m.clone().baddbmm_(2, b1, b2), BM, B1, B2),
    "torch.addbmm": (lambda L, m, b1, b2: L.addbmm(2, m, b1, b2), M, B1, B2),
    "Tensor.addbmm": (lambda L, m, b1, b2: m.addbmm(2, 3, b1, b2), M, B1, B2),
}


@pytest.mark.parametrize("name", CALLS)
def test_deprecated_signatures_compute_as_torchs(name):
    fn, *args = CALLS[name]
    check(quiet(fn), *args, grad="out=" not in name)


@pytest.mark.parametrize("fn", [
    lambda L, x, y: L.add(x, 2, y, alpha=3),            # alpha twice
    lambda L, x, y: L.add(x, L.ones(1, dtype=L.float64), y),   # a 1-element tensor is no Number
    lambda L, x, y: x.add(y, 2),                         # the current signature's alpha is keyword-only
    lambda L, x, y: L.addcmul(x, y, 2, y),
    lambda L, x, y: x.addmm(2, 3, x, 4),
], ids=["alpha twice", "tensor alpha", "positional alpha", "addcmul order", "tensor for matrix"])
def test_other_calls_fail_as_torchs(fn):
    check_error(quiet(fn), X, Y)


def test_current_signatures_by_keyword_do_not_warn():
    x, y = ember.tensor(X), ember.tensor(Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ember.allclose(x.add(alpha=2, other=y), x + 2 * y)
        assert ember.allclose(ember.add(input=x, alpha=2, other=y), x + 2 * y)


_TORCH_WARNINGS = """
import json, warnings, torch
calls = {calls}
out = []
for call in calls:
    x = torch.ones(2, 2); v = torch.ones(2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        eval(call)
        eval(call)
    out.append([(str(w.message).split(" (Triggered internally at")[0], w.category.__name__) for w in caught])
print(json.dumps(out))
"""


@pytest.mark.parametrize("calls", [["x.clone().add_(2, x)", "x.sub(2, x)"],
                                   ["torch.addmm(2, x, 3, x, x)", "x.addcmul(2, x, x)"],
                                   ["v.clone().addmv_(2, x, v)"], ["torch.baddbmm(2, x[None], x[None], x[None])"],
                                   ["x.addr(2, 3, v, v)"], ["torch.addcdiv(x, 2, x, x, out=torch.empty(2, 2))"]])
def test_warning_is_torchs_once_per_process(calls):
    code = _TORCH_WARNINGS.format(calls=calls)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    expected = json.loads(result.stdout)
    assert expected[0] and not any(expected[1:])   # one warning in all, from the first call
    got = []
    for call in calls:
        x, v = ember.ones(2, 2), ember.ones(2)   # noqa: F841 (the calls use them)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            eval(call, {"torch": ember, "x": x, "v": v})
            eval(call, {"torch": ember, "x": x, "v": v})
        got.append([(str(w.message), w.category.__name__) for w in caught])
    assert got == [[tuple(w) for w in ws] for ws in expected]


def test_warning_names_the_callers_line():
    x = ember.ones(2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x.add_(2, x)
    assert [w.filename for w in caught] == [__file__]


def test_wrapped_ops_stay_ops_to_the_script_compiler():
    # the wrappers (and the in-place methods) are named inside ember.ops, where script finds its ops
    def f(x, y):
        z = x.clone()
        z.add_(y, alpha=2)
        return ember.addmm(z, x, y.t()) + x.sub(y) + ember.add(x, y, alpha=3)
    x, y = ember.ones(2, 2), ember.arange(4.0).view(2, 2)
    assert ember.allclose(ember.jit.script(f)(x, y), f(x, y))
