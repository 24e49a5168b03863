"""An empty tensor reports PyTorch's strides: row-major over its shape with size-0 dims counted as 1 (NumPy gives a
fresh empty array zero strides), and a view of a non-empty tensor keeps its base's. Known gap: a permuted view of a
fresh empty tensor reports row-major strides, where PyTorch permutes them."""
import pytest

from tests.oracle import same_listing

CASES = {
    "zeros(0, 3)": lambda L: L.zeros(0, 3),
    "zeros(2, 0)": lambda L: L.zeros(2, 0),
    "empty(0)": lambda L: L.empty(0),
    "zeros(2, 0, 4)": lambda L: L.zeros(2, 0, 4),
    "a sum's result": lambda L: L.zeros(0, 2).sum(0, keepdim=True)[:0],
    "an op's result": lambda L: L.zeros(0, 3) + 1,
    "a cat's result": lambda L: L.cat([L.zeros(0, 3), L.zeros(0, 3)]),
    "a slice of a full tensor": lambda L: L.zeros(3, 4)[:0],
    "a column slice": lambda L: L.zeros(3, 4)[:, 2:2],
    "int64": lambda L: L.zeros(0, 5, dtype=L.int64),
}


@pytest.mark.parametrize("name", CASES)
def test_empty_strides_as_pytorch(name):
    same_listing(lambda L: repr((CASES[name](L).stride(), CASES[name](L).is_contiguous())))
