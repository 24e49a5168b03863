"""torch.hash_tensor: the elements' 64-bit patterns (floats as float64, integers as int64) reduced by exclusive or,
over all dims or the given ones, with PyTorch's values, shapes and errors."""
import pytest

from tests.oracle import same_listing

CASES = {
    "float32 whole": lambda L: L.hash_tensor(L.arange(6.0).reshape(2, 3)),
    "float64 rows": lambda L: L.hash_tensor(L.linspace(-3, 7, 12, dtype=L.float64).reshape(3, 4), 1),
    "float16 columns kept": lambda L: L.hash_tensor(L.tensor([[1.5, -2.0], [0.1, 9.0]], dtype=L.float16), 0,
                                                    keepdim=True),
    "bfloat16": lambda L: L.hash_tensor(L.tensor([1.5, -2.0, 3.25], dtype=L.bfloat16)),
    "bool": lambda L: L.hash_tensor(L.tensor([True, False, True, True])),
    "uint8": lambda L: L.hash_tensor(L.tensor([200, 3, 7], dtype=L.uint8)),
    "int8 negative": lambda L: L.hash_tensor(L.tensor([-1, 3], dtype=L.int8)),
    "int64 dims list": lambda L: L.hash_tensor(L.arange(24).reshape(2, 3, 4), [0, 2]),
    "negative dim": lambda L: L.hash_tensor(L.arange(6.0).reshape(2, 3), -1),
    "empty dim list": lambda L: L.hash_tensor(L.arange(6.0).reshape(2, 3), []),
    "keepdim without dim": lambda L: L.hash_tensor(L.arange(6.0).reshape(2, 3), keepdim=True),
    "0-d": lambda L: L.hash_tensor(L.tensor(3.0)),
    "transposed": lambda L: L.hash_tensor(L.arange(6.0).reshape(2, 3).t(), 0),
    "nan and -0": lambda L: L.hash_tensor(L.tensor([float("nan"), -0.0, float("inf")])),
    "requires grad": lambda L: L.hash_tensor(L.ones(3, requires_grad=True)),
    "method": lambda L: L.arange(4.0).hash_tensor(0),
    "out": lambda L: L.hash_tensor(L.arange(4.0), out=L.empty((), dtype=L.uint64)),
    "empty along dim 0": lambda L: L.hash_tensor(L.zeros(0, 3), 1),
    # errors
    "unknown mode": lambda L: L.hash_tensor(L.ones(2), mode=1),
    "uint32": lambda L: L.hash_tensor(L.ones(2, dtype=L.uint32)),
    "complex": lambda L: L.hash_tensor(L.ones(2, dtype=L.complex64)),
    "empty whole": lambda L: L.hash_tensor(L.zeros(0)),
    "empty reduced dim": lambda L: L.hash_tensor(L.zeros(2, 0), 1),
    "dim out of range": lambda L: L.hash_tensor(L.ones(2, 3), 2),
    "repeated dim": lambda L: L.hash_tensor(L.ones(2, 3), [0, 0]),
    "out of another dtype": lambda L: L.hash_tensor(L.ones(2), out=L.empty((), dtype=L.int64)),
}


@pytest.mark.parametrize("name", CASES)
def test_hash_tensor_as_pytorch(name):
    same_listing(CASES[name])
