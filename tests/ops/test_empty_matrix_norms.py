"""Matrix norms and condition numbers of empty matrices (and the amax/amin errors they lead to), against PyTorch 2.13:
positive orders give 0, negative ones PyTorch's amin error naming the dim its kernel reduces."""
import math

import numpy
import pytest

from tests.oracle import same_outcome

SHAPES = [(0, 0), (0, 3), (3, 0), (2, 0, 3), (2, 3, 0), (0, 2, 2)]


@pytest.mark.parametrize("ord", ["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("keepdim", [False, True])
def test_matrix_norm_of_empty_matrices(ord, shape, keepdim):
    same_outcome(lambda lib: lib.linalg.matrix_norm(lib.zeros(shape), ord=ord, keepdim=keepdim))


@pytest.mark.parametrize("ord", [1, -1, math.inf, -math.inf, 2])
def test_matrix_norm_of_empty_matrices_over_other_dims(ord):
    same_outcome(lambda lib: lib.linalg.matrix_norm(lib.zeros(0, 2, 3), ord=ord, dim=(0, 2)))
    same_outcome(lambda lib: lib.linalg.matrix_norm(lib.zeros(3, 2, 0), ord=ord, dim=(2, 0)))


@pytest.mark.parametrize("p", [None, "fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf])
@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 0), (0, 2, 2), (0, 3)])
def test_cond_of_empty_matrices(p, shape):
    same_outcome(lambda lib: lib.linalg.cond(lib.zeros(shape), p))


@pytest.mark.parametrize("ord", [None, "fro", "nuc", 2, -2, 1, math.inf])
def test_norm_of_empty_matrices(ord):
    same_outcome(lambda lib: lib.linalg.norm(lib.zeros(0, 3), ord))


def test_empty_matrix_norm_gradient_is_empty():
    def run(lib):
        a = lib.zeros(2, 0, 3, requires_grad=True)
        lib.linalg.matrix_norm(a, ord=2).sum().backward()
        return a.grad
    same_outcome(run)


@pytest.mark.parametrize("name", ["amax", "amin"])
@pytest.mark.parametrize("dim", [-2, 0, (-2,), (0, -1), -1, numpy.int64(0)])
def test_amax_amin_name_the_empty_dim_as_given(name, dim):
    same_outcome(lambda lib: getattr(lib, name)(lib.zeros(0, 3), dim))


@pytest.mark.parametrize("dim", ["numpy", "tensor"])
def test_amax_takes_integer_like_dims(dim):
    same_outcome(lambda lib: lib.ones(2, 3).amax(numpy.int64(1) if dim == "numpy" else lib.tensor(1)))


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, math.inf])
def test_empty_matrix_norm_gradients(ord):
    def run(lib):
        a = lib.zeros(2, 0, 3, requires_grad=True)
        lib.linalg.matrix_norm(a, ord=ord).sum().backward()
        return a.grad
    same_outcome(run)
