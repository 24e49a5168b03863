"""Index tensors changed in place after indexing with them: the backward refuses them as PyTorch's version check on
the indices its nodes save does (ember's nodes hold the index arrays themselves, so a changed mask used to route
gradients to the wrong elements silently); unchanged ones, or ones changed before the op, work."""
import pytest
import torch

import ember
from tests.oracle import outcome


def _read(L, index, change):
    x = L.zeros(3, requires_grad=True)
    y = x[index]
    change(index)
    (y * L.arange(1.0, 1.0 + y.numel())).sum().backward()
    return x.grad


def _write(L, index, change):
    x = L.zeros(3, requires_grad=True)
    v = L.ones(2, requires_grad=True)
    y = x * 1
    y[index] = v * 3
    change(index)
    (y * L.tensor([1.0, 10.0, 100.0])).sum().backward()
    return x.grad, v.grad


def _index_put(L, index, change):
    x = L.zeros(3, requires_grad=True)
    y = x.index_put((index,), L.ones(2))
    change(index)
    (y * L.tensor([1.0, 10.0, 100.0])).sum().backward()
    return x.grad


def _mask(L):
    return L.tensor([True, False, True])


def _positions(L):
    return L.tensor([0, 2])


CALLS = {
    "read through a changed mask": lambda L: _read(L, _mask(L), lambda m: m.__setitem__(1, True)),
    "read through changed positions": lambda L: _read(L, _positions(L), lambda i: i.__setitem__(0, 1)),
    "write through a changed mask": lambda L: _write(L, _mask(L), lambda m: m.copy_(L.tensor([False, True, True]))),
    "write through changed positions": lambda L: _write(L, _positions(L), lambda i: i.__setitem__(0, 1)),
    "index_put with changed positions": lambda L: _index_put(L, _positions(L), lambda i: i.add_(0)),
    "write through an unchanged mask": lambda L: _write(L, _mask(L), lambda m: None),
    "read through unchanged positions": lambda L: _read(L, _positions(L), lambda i: i.clone().zero_()),
}


@pytest.mark.parametrize("name", CALLS)
def test_index_versions(name):
    mine, theirs = outcome(ember, CALLS[name]), outcome(torch, CALLS[name])
    if isinstance(theirs, tuple):   # ("error", type, message)
        assert mine[:2] == theirs[:2]
        assert mine[2].replace("ember.", "torch.") == theirs[2]
    else:
        assert len(mine) == len(theirs) and all((a == b).all() for a, b in zip(mine, theirs))
