"""Assigning ``Tensor.grad`` and ``Tensor.grad_dtype``: PyTorch's checks (type, itself, dtype, device type, size)
and how backward accumulates into a leaf whose ``grad_dtype`` was set, each against PyTorch 2.13."""
import numpy
import pytest

from tests.oracle import same_outcome


def _assigned(grad_of):
    """A leaf of shape (2,) float32 given ``grad_of(lib, leaf)`` as its gradient: the gradient read back."""
    def run(lib):
        leaf = lib.zeros(2, requires_grad=True)
        leaf.grad = grad_of(lib, leaf)
        return leaf.grad
    return run


@pytest.mark.parametrize("grad_of", [
    lambda lib, x: lib.ones(2),
    lambda lib, x: None,
    lambda lib, x: lib.ones(3),
    lambda lib, x: lib.tensor(1.0),
    lambda lib, x: lib.ones(1),
    lambda lib, x: lib.ones(2, 1),
    lambda lib, x: lib.ones(2, dtype=lib.float64),
    lambda lib, x: lib.ones(2, dtype=lib.float16),
    lambda lib, x: lib.ones(2, dtype=lib.bfloat16),
    lambda lib, x: lib.ones(2, dtype=lib.int64),
    lambda lib, x: lib.ones(2, dtype=lib.int32),
    lambda lib, x: lib.ones(2, dtype=lib.bool),
    lambda lib, x: lib.ones(2, dtype=lib.complex64),
    lambda lib, x: lib.ones(2, device="meta"),
    lambda lib, x: x,
    lambda lib, x: [1.0, 2.0],
    lambda lib, x: numpy.zeros(2),
    lambda lib, x: 3,
])
def test_assigned_gradient_checks(grad_of):
    same_outcome(_assigned(grad_of))


def test_assigned_gradient_of_a_non_leaf_and_of_a_meta_tensor():
    def non_leaf(lib):
        y = lib.zeros(2, 3, requires_grad=True) * 2
        y.grad = lib.ones(3, 2)
    same_outcome(non_leaf)

    def meta(lib):
        y = lib.zeros(2, device="meta")
        y.grad = lib.ones(2)
    same_outcome(meta)


def test_sparse_gradient_of_the_same_size_is_kept():
    def run(lib):
        leaf = lib.zeros(3, requires_grad=True)
        leaf.grad = lib.tensor([0.0, 2.0, 0.0]).to_sparse()
        assert str(leaf.grad.layout).split(".")[-1] == "sparse_coo"
        return leaf.grad.to_dense()
    same_outcome(run)


@pytest.mark.parametrize("steps", [
    ("set", "float64"), ("set", None), ("set", "float16"),
    ("grad", "float64"), ("set", "float64", "grad", "float64"), ("set", None, "grad", "int64"),
    ("grad", "float32", "set", "float64"), ("grad", "float32", "set", "float32"), ("grad", "float32", "set", None),
    ("set", "int"), ("nonleaf-set", "float64"), ("nonleaf-get",),
])
def test_grad_dtype_rules(steps):
    def run(lib):
        leaf = lib.zeros(2, requires_grad=True)
        seen = []
        words = list(steps)
        while words:
            word = words.pop(0)
            if word == "set":
                value = words.pop(0)
                leaf.grad_dtype = 3 if value == "int" else None if value is None else getattr(lib, value)
            elif word == "grad":
                leaf.grad = lib.ones(2, dtype=getattr(lib, words.pop(0)))
            elif word == "nonleaf-set":
                (leaf * 2).grad_dtype = getattr(lib, words.pop(0))
            else:
                return str((leaf * 2).grad_dtype)
            seen.append(str(leaf.grad_dtype).split(".")[-1])
        return " ".join(seen)
    same_outcome(run)


@pytest.mark.parametrize("grad_dtype", ["float64", "float16", None])
def test_backward_accumulates_in_the_leafs_grad_dtype(grad_dtype):
    def run(lib):
        leaf = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        leaf.grad_dtype = None if grad_dtype is None else getattr(lib, grad_dtype)
        (leaf * leaf).sum().backward()
        first = leaf.grad.clone()
        (leaf * 3).sum().backward()
        return first, leaf.grad
    same_outcome(run)
