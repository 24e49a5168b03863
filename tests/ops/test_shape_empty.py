"""Reshaping and flattening empty tensors as PyTorch: flatten merges zero sizes explicitly, and an inferred -1
among zero sizes is refused with PyTorch's message."""
import pytest
import torch

import ember


@pytest.mark.parametrize("shape, start, end", [((0, 4), 1, -1), ((0, 4, 5), 1, -1), ((3, 0, 2), 0, -1),
                                               ((3, 0, 2), 0, 1), ((2, 3, 0), 1, 2), ((0,), 0, -1)])
def test_flatten_of_empty_tensors(shape, start, end):
    assert tuple(ember.zeros(*shape).flatten(start, end).shape) == tuple(torch.zeros(*shape).flatten(start, end).shape)


@pytest.mark.parametrize("shape, new", [((0, 4), (0, -1)), ((0, 4), (-1, 0)), ((0, 4), (-1, 2)), ((2, 0), (-1,))])
def test_reshape_of_empty_tensors(shape, new):
    def outcome(library):
        try:
            return tuple(library.zeros(*shape).reshape(*new).shape)
        except RuntimeError as error:
            return str(error)
    assert outcome(ember) == outcome(torch)
