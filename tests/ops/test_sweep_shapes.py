"""Shape ops where a differential sweep against PyTorch 2.13 found ember differing: each case runs on both."""
import pytest
import torch

import ember


def outcome(fn, lib):
    """``fn(lib)`` as comparable data: the shapes and values of the tensors it returns, or its exception's type and
    message."""
    try:
        result = fn(lib)
    except Exception as error:   # noqa: BLE001 - the error is the result compared
        return type(error).__name__, str(error)
    if isinstance(result, lib.Tensor):
        return list(result.shape), result.tolist()
    return [(list(r.shape), r.tolist()) for r in result]


CASES = {
    "split of an empty dim": lambda L: L.ones(0).split(2),
    "split of an empty inner dim": lambda L: L.ones(2, 0).split(3, 1),
    "split by 0 of an empty dim": lambda L: L.ones(0).split(0),
    "squeeze 0-d dim 0": lambda L: L.tensor(1.0).squeeze(0),
    "squeeze 0-d dim -1": lambda L: L.tensor(1.0).squeeze((-1,)),
    "squeeze 0-d dim 1": lambda L: L.tensor(1.0).squeeze(1),
    "squeeze 0-d dim -2": lambda L: L.tensor(1.0).squeeze(-2),
    "expand -1 in a new dim": lambda L: L.ones(3, 1).expand(-1, 3, 4),
    "expand -1 in a later new dim": lambda L: L.ones(3, 1).expand(2, -1, -1, 4),
    "expand -1 in an existing dim": lambda L: L.ones(3, 1).expand(2, -1, 4),
    "tensor_split by a 2-d tensor": lambda L: L.arange(4).tensor_split(L.tensor([[1]])),
    "tensor_split by a float tensor": lambda L: L.arange(4).tensor_split(L.tensor([1.0])),
    "tensor_split by an int32 tensor": lambda L: L.arange(4).tensor_split(L.tensor(2, dtype=L.int32)),
    "tensor_split by an int64 tensor": lambda L: L.arange(4).tensor_split(L.tensor([1, 3])),
}


@pytest.mark.parametrize("name", CASES)
def test_shape_edge_as_torch(name):
    assert outcome(CASES[name], ember) == outcome(CASES[name], torch)


@pytest.mark.parametrize("size", [-2, -5])
def test_expand_refuses_negative_sizes(size):
    """Sizes below -1 are refused with a RuntimeError, as PyTorch's (whose message only reports an overflow)."""
    for lib in (torch, ember):
        with pytest.raises(RuntimeError):
            lib.ones(3, 1).expand(3, size)


def _index_cases(L):
    return {
        "index_add dim 0 of 3-d": lambda i: L.zeros(3, 2, 2).index_add(0, L.tensor([i]), L.ones(1, 2, 2)),
        "index_add middle dim": lambda i: L.zeros(2, 3, 2).index_add(1, L.tensor([i]), L.ones(2, 1, 2)),
        "index_add last dim": lambda i: L.zeros(2, 2, 3).index_add(2, L.tensor([i]), L.ones(2, 2, 1)),
        "index_add several": lambda i: L.zeros(3, 2).index_add(0, L.tensor([i, 0, 1]), L.ones(3, 2)),
        "index_add alpha": lambda i: L.zeros(3, 2).index_add(0, L.tensor([i]), L.ones(1, 2), alpha=2),
        "index_add 1-d": lambda i: L.zeros(3).index_add(0, L.tensor([i]), L.ones(1)),
        "index_add int32": lambda i: L.zeros(3, 2).index_add(0, L.tensor([i], dtype=L.int32), L.ones(1, 2)),
        "index_add 0-d": lambda i: L.zeros(()).index_add(0, L.tensor([i]), L.ones(())),
        "index_copy 1-d": lambda i: L.zeros(3).index_copy(0, L.tensor([i]), L.ones(1)),
        "index_copy 0-d": lambda i: L.zeros(()).index_copy(0, L.tensor([i]), L.ones(())),
        "index_copy dim 1": lambda i: L.zeros(3, 2).index_copy(1, L.tensor([i]), L.ones(3, 1)),
        "index_fill dim 1": lambda i: L.zeros(3, 2).index_fill(1, L.tensor([i]), 2.0),
    }


@pytest.mark.parametrize("name", _index_cases(torch))
@pytest.mark.parametrize("i", [-3, -1, 0, 1, 3])
def test_index_add_and_copy_refuse_negative_indices_as_torch(name, i):
    """index_add/index_copy take indices in [0, size) only (index_fill wraps negative ones), with the error of the
    PyTorch kernel that runs; valid ones write as PyTorch's, 0-d inputs included."""
    assert outcome(lambda L: _index_cases(L)[name](i), ember) == outcome(lambda L: _index_cases(L)[name](i), torch)


KEYS = {
    "0-d index": lambda L: (L.tensor(1),),
    "0-d index and int": lambda L: (L.tensor(1), 0),
    "0-d index before a list": lambda L: (L.tensor(-1), [0, 1]),
    "list before a 0-d index": lambda L: ([0, 1], L.tensor(0)),
    "0-d index between": lambda L: (slice(None), L.tensor(0), [0, 1]),
    "0-d int32 index and None": lambda L: (L.tensor(1, dtype=L.int32), None),
    "0-d index out of range": lambda L: (L.tensor(5),),
}


@pytest.mark.parametrize("name", KEYS)
def test_zero_dim_index_tensor_selects_a_view_as_torch(name):
    """A 0-d integer index tensor is read as an int (PyTorch's select): the result is a view writing through to the
    indexed tensor, and its dims land where an int's would."""
    def run(L):
        x = L.arange(27.0).reshape(3, 3, 3)
        try:
            view = x[KEYS[name](L)]
        except IndexError as error:
            return str(error)
        shape, values = list(view.shape), view.tolist()
        view.view(-1)[0] = -7.0
        return shape, values, x.tolist()
    assert run(ember) == run(torch)
