"""An op's input or result changed in place before backward: allowed or refused exactly where PyTorch allows or
refuses it, because each node saves what PyTorch's saves (reciprocal and ndtri their result; erfinv and i0 their
input; fmod and remainder nothing unless ``other`` needs a gradient; outer, einsum, linalg.cross and hypot an operand
only where another one's gradient reads it), with PyTorch's gradients."""
import itertools

import pytest
import torch

import ember
from tests.oracle import outcome, same_outcome

OPS = {
    "reciprocal": lambda L, x: x.reciprocal(),
    "number / x": lambda L, x: 3.0 / x,
    "erfinv": lambda L, x: L.erfinv(x),
    "i0": lambda L, x: L.i0(x),
    "special.i0": lambda L, x: L.special.i0(x),
    "special.ndtri": lambda L, x: L.special.ndtri(x),
    "special.i1": lambda L, x: L.special.i1(x),
    "special.erfcx": lambda L, x: L.special.erfcx(x),
    "fmod by a number": lambda L, x: L.fmod(x, 0.3),
    "remainder by a tensor": lambda L, x: L.remainder(x, L.full((4,), 0.3, dtype=L.float64)),
    "fmod by a tensor needing grad": lambda L, x: L.fmod(x, x.detach().clone().requires_grad_()),
    "x % number": lambda L, x: x % 0.3,
    "outer": lambda L, x: L.outer(x, L.arange(3.0, dtype=L.float64)).sum(1),
    "einsum": lambda L, x: L.einsum("i,ij->j", x, L.ones(4, 2, dtype=L.float64)),
    "hypot": lambda L, x: L.hypot(x, L.full((4,), 0.5, dtype=L.float64)),
    "linalg.cross": lambda L, x: L.linalg.cross(x[:3], L.tensor([0.5, -1.0, 2.0], dtype=L.float64)),
    "exp": lambda L, x: x.exp(),
    "log": lambda L, x: x.log(),
}


def _changed(op, change):
    def run(L):
        x = L.tensor([0.3, 0.45, 0.7, 0.95], dtype=L.float64, requires_grad=True)
        h = x * 1
        out = op(L, h)
        (out if change == "result" else h).mul_(2)
        (out * out).sum().backward()
        return x.grad
    return run


@pytest.mark.parametrize("name, change", list(itertools.product(OPS, ["result", "input"])))
def test_change_in_place_before_backward(name, change):
    mine, theirs = outcome(ember, _changed(OPS[name], change)), outcome(torch, _changed(OPS[name], change))
    if isinstance(theirs, tuple):   # ("error", type, message): the message names the library's tensor type
        assert mine == theirs[:2] + (theirs[2].replace("[torch.", "[ember."),)
    else:
        assert isinstance(mine, list), mine
        assert abs(mine[0] - theirs[0]).max() <= 1e-12 * abs(theirs[0]).max()


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_reciprocal_gradient_as_pytorch(dtype):
    def run(L):
        L.manual_seed(0)
        x = (L.rand(64, dtype=getattr(L, dtype)) * 10 - 5).requires_grad_()
        y = x.reciprocal()
        y.backward(L.linspace(-2, 3, 64, dtype=getattr(L, dtype)))
        return y, x.grad
    same_outcome(run, rtol=0)


@pytest.mark.parametrize("name", ["hypot", "outer", "einsum", "mul"])
def test_operand_without_grad_changed_in_place(name):
    """The operand that needs no gradient may change after the op when the other's gradient does not read it."""
    ops = {"hypot": lambda L, x, w: L.hypot(w, x), "outer": lambda L, x, w: L.outer(w, x).sum(0),
           "einsum": lambda L, x, w: L.einsum("i,i->i", w, x), "mul": lambda L, x, w: w * x}

    def run(L):
        x = L.tensor([0.3, 0.45, 0.7, 0.95], dtype=L.float64, requires_grad=True)
        w = L.tensor([1.5, -0.5, 2.0, 0.25], dtype=L.float64)
        out = ops[name](L, x * 1, w)
        w.mul_(3)
        out.sum().backward()
        return x.grad
    mine, theirs = outcome(ember, run), outcome(torch, run)
    assert isinstance(theirs, list) == isinstance(mine, list), (mine, theirs)
    if isinstance(theirs, list):
        assert abs(mine[0] - theirs[0]).max() <= 1e-12
    else:
        assert mine[:2] == theirs[:2]
