"""Index tensors changed in place after indexing with them: the backward refuses them as PyTorch's version check on
the indices its nodes save does (ember's nodes hold the index arrays themselves, so a changed mask used to route
gradients to the wrong elements silently); unchanged ones, or ones changed before the op, work."""
import numpy
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


def _through(op, make_index):
    """Runs ``op(x, index)``, changes the index in place (a mask flipped, positions moved), then backward: the
    gradient of x, or PyTorch's version error."""
    def run(L):
        x = L.arange(12.0).reshape(4, 3).requires_grad_()
        index = make_index(L)
        y = op(L, x, index)
        if index.dtype is L.bool:
            index.logical_not_()
        else:
            index.sub_(index).add_(1)
        (y * L.arange(float(y.numel())).reshape(y.shape)).sum().backward()
        return x.grad
    return run


def _positions_2(L):
    return L.tensor([0, 2])


def _mask_3(L):
    return L.tensor([True, False, True])


# ember's nodes for these hold the index or mask array itself: changed in place, it used to route the gradient to
# the wrong elements without a word (autograd._saved.keep_versions now has the engine check it, as PyTorch does).
HELD_INDICES = {
    "index_select": (lambda L, x, i: x.index_select(0, i), _positions_2),
    "index_select of a 0-d input": (lambda L, x, i: x[0, 0].index_select(0, i[:1]), _positions_2),
    "take": (lambda L, x, i: x.take(i), _positions_2),
    "put": (lambda L, x, i: x.put(i, x[0, :2] * 3), _positions_2),
    "index_add": (lambda L, x, i: x.index_add(0, i, x[:2] * 3), _positions_2),
    "index_copy": (lambda L, x, i: x.index_copy(0, i, x[:2] * 3), _positions_2),
    "index_fill": (lambda L, x, i: x.index_fill(0, i, 0.0), _positions_2),
    "masked_select": (lambda L, x, m: x.masked_select(m), _mask_3),
    "masked_scatter": (lambda L, x, m: x.masked_scatter(m, x * 3), _mask_3),
    "embedding": (lambda L, x, i: L.nn.functional.embedding(i, x), _positions_2),
    "embedding_bag": (lambda L, x, i: L.nn.functional.embedding_bag(i.view(1, 2), x), _positions_2),
    "cross_entropy's target": (lambda L, x, i: L.nn.functional.cross_entropy(x[:2], i, reduction="none"),
                               _positions_2),
    "nll_loss's target": (lambda L, x, i: L.nn.functional.nll_loss(x[:2], i, reduction="none"), _positions_2),
    "mse_loss's target": (lambda L, x, t: L.nn.functional.mse_loss(x[0, :2], t, reduction="none"),
                          lambda L: L.tensor([0.0, 2.0])),
}


@pytest.mark.parametrize("name", HELD_INDICES)
def test_held_index_changed_in_place(name):
    op, make_index = HELD_INDICES[name]
    mine, theirs = outcome(ember, _through(op, make_index)), outcome(torch, _through(op, make_index))
    assert theirs[0] == "error"
    assert mine[:2] == theirs[:2]
    assert mine[2].replace("ember.", "torch.") == theirs[2]


def _index_output(op):
    """Runs ``values, indices = op(x)``, changes the indices in place, then backward through the values."""
    def run(L):
        L.manual_seed(0)
        x = L.randn(2, 4, 4).requires_grad_()
        values, indices = op(L, x * 1)
        indices.sub_(indices).add_(1)
        (values * L.arange(float(values.numel())).reshape(values.shape)).sum().backward()
        return x.grad
    return run


# Their nodes hold the indices they return: changed in place, the gradient went to the new positions.
INDEX_OUTPUTS = {
    "sort": lambda L, x: x.sort(1),
    "topk": lambda L, x: x.topk(2, 1),
    "kthvalue": lambda L, x: x.kthvalue(2, 1),
    "max along a dim": lambda L, x: x.max(1),
    "min along a dim, keepdim": lambda L, x: x.min(1, keepdim=True),
    "median": lambda L, x: x.median(1),
    "nanmedian": lambda L, x: x.nanmedian(2),
    "mode": lambda L, x: x.mode(1),
    "cummax": lambda L, x: x.cummax(1),
    "cummin": lambda L, x: x.cummin(2),
    "max_pool2d": lambda L, x: L.nn.functional.max_pool2d(x, 2, return_indices=True),
    "adaptive_max_pool2d": lambda L, x: L.nn.functional.adaptive_max_pool2d(x, 2, return_indices=True),
}


@pytest.mark.parametrize("name", INDEX_OUTPUTS)
def test_returned_indices_changed_in_place(name):
    mine, theirs = outcome(ember, _index_output(INDEX_OUTPUTS[name])), outcome(torch, _index_output(INDEX_OUTPUTS[name]))
    assert theirs[0] == "error"
    assert mine[:2] == theirs[:2]
    assert mine[2].replace("ember.", "torch.") == theirs[2]


def test_unchanged_indices_still_give_pytorch_gradients():
    def run(L):
        L.manual_seed(0)
        x = L.randn(3, 5, requires_grad=True)
        values, indices = x.sort(1)
        picked = x.index_select(1, indices[0])
        loss = values.sum() + picked.pow(2).sum() + L.nn.functional.cross_entropy(x, indices[:, 0])
        loss.backward()
        return x.grad
    mine, theirs = outcome(ember, run), outcome(torch, run)
    numpy.testing.assert_allclose(mine[0], theirs[0], rtol=1e-6)
