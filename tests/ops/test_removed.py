"""Functions PyTorch removed in 1.9 raise its RuntimeError, with its message naming the replacement."""
import numpy
import pytest
import torch

import ember
from tests.oracle import check_same_error

CALLS = {"solve": lambda lib, a: lib.solve(a, a), "lstsq": lambda lib, a: lib.lstsq(a, a),
         "eig": lambda lib, a: lib.eig(a), "symeig": lambda lib, a: lib.symeig(a, eigenvectors=True),
         "matrix_rank": lambda lib, a: lib.matrix_rank(a), "Tensor.solve": lambda lib, a: a.solve(a),
         "Tensor.lstsq": lambda lib, a: a.lstsq(a), "Tensor.eig": lambda lib, a: a.eig(True),
         "Tensor.symeig": lambda lib, a: a.symeig()}


@pytest.mark.parametrize("name", CALLS)
def test_removed_functions_raise_as_pytorch(name):
    check_same_error(CALLS[name], numpy.eye(2, dtype=numpy.float32))


def test_tensor_has_no_matrix_rank_method_as_pytorch():
    assert not hasattr(torch.eye(2), "matrix_rank") and not hasattr(ember.eye(2), "matrix_rank")


def test_build_flags():
    assert ember.has_lapack and ember.has_spectral
    assert ember.has_mkl == ember.backends.mkl.is_available()
    assert ember.has_openmp == ember.backends.openmp.is_available()
