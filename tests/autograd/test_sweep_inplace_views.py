"""In-place changes to views PyTorch does not let rewrite the graph (found by a differential sweep against PyTorch
2.13): outputs of functions returning several views, views made in no_grad mode, and expanded tensors whose written
elements share memory; each case runs on both."""
import pytest
import torch

import ember


def _made_in_no_grad(L, base, make):
    with L.no_grad():
        return make(base)


CASES = {
    "unbind output": lambda L, y, c: y.unbind()[1].mul_(2),
    "split output": lambda L, y, c: y.split(1)[0].mul_(2),
    "split with sizes output": lambda L, y, c: y.split([1, 2])[1].mul_(2),
    "chunk output": lambda L, y, c: y.chunk(3)[2].add_(1),
    "unbind output, setitem": lambda L, y, c: y.unbind()[0].__setitem__((), 3.0),
    "unbind output of a constant times a graph operand": lambda L, y, c: c.unbind()[0].mul_(y[0]),
    "unbind output of a constant times a number": lambda L, y, c: c.unbind()[0].mul_(2),
    "tensor_split output (single views)": lambda L, y, c: y.tensor_split(3)[0].mul_(2),
    "view made in no_grad": lambda L, y, c: _made_in_no_grad(L, y, lambda t: t[:1]).mul_(2),
    "unbind output made in no_grad": lambda L, y, c: _made_in_no_grad(L, y, lambda t: t.unbind()[0]).mul_(2),
    "constant's view made in no_grad, graph operand": lambda L, y, c: _made_in_no_grad(L, c, lambda t: t[:1]).mul_(
        y[:1]),
    "constant's view made in no_grad, number": lambda L, y, c: _made_in_no_grad(L, c, lambda t: t[:1]).mul_(2),
    "detached view made in no_grad": lambda L, y, c: _made_in_no_grad(L, y, lambda t: t.detach()[:1]).mul_(2),
    "view made in no_grad, changed in no_grad": lambda L, y, c: _made_in_no_grad(
        L, y, lambda t: t[:1].mul_(2)),
    "expanded graph tensor, add_": lambda L, y, c: y[:1].expand(3).add_(1),
    "expanded graph tensor, fill_": lambda L, y, c: y[:1].expand(3).fill_(1),
    "expanded graph tensor, copy_": lambda L, y, c: y[:1].expand(3).copy_(c),
    "expanded constant times a graph operand": lambda L, y, c: c[:1].expand(3).mul_(y),
    "expanded graph tensor, one element set": lambda L, y, c: y[:1].expand(3).__setitem__(0, 2.0),
    "expanded graph tensor, all elements set": lambda L, y, c: y[:1].expand(3).__setitem__(slice(None), 2.0),
}


def outcome(name, lib):
    y = lib.ones(3, requires_grad=True) * 2
    try:
        result = CASES[name](lib, y, lib.ones(3))
    except RuntimeError as error:
        return str(error)
    return None if result is None else result.tolist(), y.tolist()


@pytest.mark.parametrize("name", CASES)
def test_inplace_on_views_as_torch(name):
    assert outcome(name, ember) == outcome(name, torch)


def _error(fn, lib):
    try:
        fn(lib)
    except (RuntimeError, TypeError) as error:
        return type(error).__name__, str(error)
    return None


@pytest.mark.parametrize("fn", [
    lambda L: (L.tensor([1 + 1j], requires_grad=True) * 2).sum().backward(),
    lambda L: setattr(L.ones(3, requires_grad=True), "grad", 3),
    lambda L: setattr(L.ones(3, requires_grad=True), "grad", [1.0, 2.0, 3.0]),
    lambda L: setattr(L.ones(3, requires_grad=True), "grad", L.ones(3)),
    lambda L: setattr(L.ones(3, requires_grad=True), "grad", None),
], ids=["complex output without a gradient", "grad set to an int", "grad set to a list", "grad set to a tensor",
        "grad set to None"])
def test_autograd_errors_as_torch(fn):
    """backward() of a complex scalar needs its gradient given; ``.grad`` takes a tensor or None only."""
    assert _error(fn, ember) == _error(fn, torch)
