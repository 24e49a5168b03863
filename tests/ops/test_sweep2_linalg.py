"""Linear algebra on 16-bit floats, as a second differential sweep against PyTorch 2.13 found it: LAPACK-backed ops
refuse float16 and bfloat16 matrices with PyTorch's errors (ember raised NumPy's TypeError for float16 and computed
bfloat16 ones in float64, returning float64), while matmul-based ones (matrix_power, matrix_exp, the 1/inf norms)
still compute; each case run on both libraries and compared."""
import pytest
import torch

import ember


def outcome(fn, lib):
    """What ``fn(lib)`` gives: tensors' dtypes and shapes, or the exception's type and message."""
    try:
        result = fn(lib)
    except Exception as error:   # noqa: BLE001 - the error is the result compared
        return type(error).__name__, str(error)
    results = result if isinstance(result, tuple) else (result,)
    return [(str(r.dtype).split(".")[1], tuple(r.shape)) for r in results]


def matrix(lib, dtype, shape):
    rows, cols = shape[-2:]
    eye = lib.eye(rows, cols) * 3 + 0.5
    return eye.expand(shape).to(getattr(lib, dtype))


OPS = {
    "inv": lambda L, A: L.linalg.inv(A), "inv_ex": lambda L, A: tuple(L.linalg.inv_ex(A)),
    "inverse": lambda L, A: L.inverse(A), "det": lambda L, A: L.linalg.det(A),
    "slogdet": lambda L, A: L.linalg.slogdet(A),
    "logdet": lambda L, A: L.logdet(A), "cholesky": lambda L, A: L.linalg.cholesky(A),
    "cholesky_ex": lambda L, A: tuple(L.linalg.cholesky_ex(A)), "eigh": lambda L, A: tuple(L.linalg.eigh(A)),
    "eigvalsh": lambda L, A: L.linalg.eigvalsh(A), "eigvals": lambda L, A: L.linalg.eigvals(A),
    "svdvals": lambda L, A: L.linalg.svdvals(A), "svd": lambda L, A: tuple(L.linalg.svd(A)),
    "qr": lambda L, A: tuple(L.linalg.qr(A)), "solve": lambda L, A: L.linalg.solve(A, A),
    "solve_ex": lambda L, A: tuple(L.linalg.solve_ex(A, A)),
    "solve_triangular": lambda L, A: L.linalg.solve_triangular(A, A, upper=True),
    "lu_factor": lambda L, A: tuple(L.linalg.lu_factor(A)), "lstsq": lambda L, A: L.linalg.lstsq(A, A).solution,
    "matrix_rank": lambda L, A: L.linalg.matrix_rank(A), "pinv": lambda L, A: L.linalg.pinv(A),
    "matrix_norm 2": lambda L, A: L.linalg.matrix_norm(A, 2),
    "matrix_norm nuc": lambda L, A: L.linalg.matrix_norm(A, "nuc"),
    "matrix_norm 1": lambda L, A: L.linalg.matrix_norm(A, 1), "cond": lambda L, A: L.linalg.cond(A),
    "matrix_power -1": lambda L, A: L.linalg.matrix_power(A, -1),
    "matrix_power 2": lambda L, A: L.linalg.matrix_power(A, 2),
}


@pytest.mark.parametrize("name", OPS)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("shape", [(3, 3), (2, 2, 2)])
def test_16_bit_matrices(name, dtype, shape):
    fn = lambda L: OPS[name](L, matrix(L, dtype, shape))   # noqa: E731
    assert outcome(fn, ember) == outcome(fn, torch)


def test_lstsq_of_a_vector():
    fn = lambda L: L.linalg.lstsq(L.ones(3), L.ones(3))   # noqa: E731
    assert outcome(fn, ember) == outcome(fn, torch)
