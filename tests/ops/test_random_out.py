"""rand, randn, randint and randperm with ``out=``: they draw in ``out``'s dtype (a float64 out gets float64 samples,
PyTorch's stream for that dtype), refuse a ``dtype`` that differs from it, and resize a non-empty out silently, as
PyTorch's factories do."""
import warnings

import pytest
import torch

import ember

CALLS = {
    "rand into float64": lambda L: L.rand(3, out=L.empty(3, dtype=L.float64)),
    "randn into float64": lambda L: L.randn(2, 2, out=L.empty(2, 2, dtype=L.float64)),
    "randint into float32": lambda L: L.randint(0, 10, (4,), out=L.empty(4)),
    "randint into int32": lambda L: L.randint(3, (4,), out=L.empty(4, dtype=L.int32)),
    "randperm into int32": lambda L: L.randperm(6, out=L.empty(6, dtype=L.int32)),
    "rand resizing a non-empty out": lambda L: L.rand(2, 3, out=L.empty(5)),
    "randn resizing": lambda L: L.randn(4, out=L.empty(2, 2)),
    "randint resizing": lambda L: L.randint(0, 5, (3,), out=L.empty(2, dtype=L.long)),
    "randperm resizing": lambda L: L.randperm(4, out=L.empty(2, dtype=L.long)),
    "rand with a different dtype": lambda L: L.rand(2, out=L.empty(2, dtype=L.float64), dtype=L.float32),
    "randn with a different dtype": lambda L: L.randn(2, out=L.empty(2), dtype=L.float64),
    "randint with a different dtype": lambda L: L.randint(0, 3, (2,), out=L.empty(2, dtype=L.long), dtype=L.int32),
    "randperm with a different dtype": lambda L: L.randperm(3, out=L.empty(3, dtype=L.long), dtype=L.int32),
    "rand with the same dtype": lambda L: L.rand(2, out=L.empty(2, dtype=L.float64), dtype=L.float64),
}


def _run(L, call):
    L.manual_seed(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = call(L)
        except RuntimeError as error:
            return "error", str(error), []
    return result.tolist(), str(result.dtype).split(".")[-1], [str(w.message) for w in caught]


@pytest.mark.parametrize("name", CALLS)
def test_out_as_pytorch(name):
    assert _run(ember, CALLS[name]) == _run(torch, CALLS[name])
