"""The examples of PyTorch 2.13's torch.nested docstrings, run on PyTorch and on ember with the same numbers."""
import numpy as np
import pytest
import torch

import ember

from ._common import compare

pytestmark = pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors is in prototype stage")


def _both(example):
    return [example(lib, np.random.default_rng(7)) for lib in (torch, ember)]


def _same(pair):
    theirs, ours = pair
    for a, b in zip(ours, theirs):
        if isinstance(b, torch.Tensor) and b.is_nested and b.layout == torch.strided:
            compare(a.unbind(), b.unbind())
        else:
            compare(a, b)


def test_as_nested_tensor_backward_with_a_nested_gradient():
    def example(lib, rng):
        a = lib.arange(3, dtype=lib.float, requires_grad=True)
        b = lib.arange(5, dtype=lib.float, requires_grad=True)
        nt = lib.nested.as_nested_tensor([a, b])
        fake_grad = lib.nested.nested_tensor([lib.ones_like(a), lib.zeros_like(b)])
        nt.backward(fake_grad)
        c = lib.tensor(rng.standard_normal((3, 5)), requires_grad=True)
        nt2 = lib.nested.as_nested_tensor(c)
        return nt.is_leaf, a.grad, b.grad, nt2
    _same(_both(example))


def test_to_padded_tensor():
    def example(lib, rng):
        nt = lib.nested.nested_tensor([lib.tensor(rng.standard_normal((2, 5))),
                                       lib.tensor(rng.standard_normal((3, 4)))])
        with pytest.raises(RuntimeError, match="Value in output_size is less than NestedTensor padded size. "
                                               "Truncation is not supported."):
            lib.nested.to_padded_tensor(nt, 2.0, (2, 2, 2))
        return lib.nested.to_padded_tensor(nt, 0.0), lib.nested.to_padded_tensor(nt, 1.0, (2, 4, 6))
    _same(_both(example))


def test_nested_tensor_is_leaf():
    def example(lib, rng):
        a = lib.arange(3, dtype=lib.float, requires_grad=True)
        b = lib.arange(5, dtype=lib.float, requires_grad=True)
        return (lib.nested.nested_tensor([a, b], requires_grad=True).is_leaf,)
    _same(_both(example))


def test_narrow_jagged():
    def example(lib, rng):
        starts = lib.tensor([0, 1, 2, 3, 4], dtype=lib.int64)
        lengths = lib.tensor([3, 2, 2, 1, 5], dtype=lib.int64)
        nt = lib.nested.narrow(lib.tensor(rng.standard_normal((5, 10, 20))), 1, starts, lengths, layout=lib.jagged)
        return nt.is_contiguous(), nt.unbind()
    _same(_both(example))


def test_nested_tensor_from_jagged():
    def example(lib, rng):
        values = lib.tensor(rng.standard_normal((12, 5)))
        offsets = lib.tensor([0, 3, 5, 6, 10, 12])
        nt = lib.nested.nested_tensor_from_jagged(values, offsets)
        holes_values = lib.tensor(rng.standard_normal((6, 5)))
        holes = lib.nested.nested_tensor_from_jagged(holes_values, lib.tensor([0, 2, 3, 6]), lib.tensor([1, 1, 2]))
        a, b, c = holes.unbind()
        return (nt.shape, offsets.diff(), lib.equal(a, holes_values[0:1, :]), lib.equal(b, holes_values[2:3, :]),
                lib.equal(c, holes_values[3:5, :]))
    _same(_both(example))


def test_masked_select():
    def example(lib, rng):
        tensor = lib.tensor(rng.standard_normal((3, 3)))
        mask = lib.tensor([[False, False, True], [True, False, True], [False, False, True]])
        nt = lib.nested.masked_select(tensor, mask)
        nt2 = lib.nested.masked_select(lib.tensor(rng.standard_normal((6, 5))), lib.tensor([False]))
        return nt, nt.shape, nt.offsets().diff(), nt2.shape, nt2.offsets().diff()
    _same(_both(example))
