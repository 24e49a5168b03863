"""LU with partial pivoting against PyTorch: linalg.lu_factor / lu_factor_ex / lu / lu_solve, torch.lu, lu_unpack,
lu_solve and triangular_solve; values, pivots, dtypes, gradients (compared and gradchecked in float64), errors."""
import numpy
import pytest

from ..oracle import check, check_error, gradcheck, sample

pytestmark = pytest.mark.filterwarnings("ignore:torch.(lu|lu_solve|triangular_solve) is deprecated:UserWarning")


@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (3, 5), (5, 3), (1, 1), (2, 0, 0)])
@pytest.mark.parametrize("dtype", [numpy.float64, numpy.float32, numpy.complex128])
def test_lu_factor_and_lu_match_torch(shape, dtype):
    A = sample(shape, dtype)
    check(lambda L, A: tuple(L.linalg.lu_factor(A)), A)
    check(lambda L, A: tuple(L.linalg.lu(A)), A)
    check(lambda L, A: tuple(L.linalg.lu_factor_ex(A)), A)


@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3)])
def test_lu_gradients_gradcheck(shape):
    A = sample(shape, numpy.float64)
    gradcheck(lambda L, A: L.linalg.lu_factor(A).LU, A)
    gradcheck(lambda L, A: L.linalg.lu(A)[1:], A)


def test_lu_of_singular_matrices_and_old_api():
    singular = numpy.array([[0.0, 0.0], [0.0, 0.0]])
    check(lambda L, A: tuple(L.linalg.lu_factor_ex(A)), singular)
    check(lambda L, A: tuple(L.lu(A, get_infos=True)), singular)
    check(lambda L, A: tuple(A.lu()), sample((2, 3, 3)))
    check_error(lambda L, A: L.linalg.lu_factor(A), singular)


@pytest.mark.parametrize("unpack_data, unpack_pivots", [(True, True), (False, True), (True, False)])
@pytest.mark.parametrize("shape", [(2, 4, 4), (3, 5), (5, 3)])
def test_lu_unpack_matches_torch(unpack_data, unpack_pivots, shape):
    def run(L, A):
        return tuple(L.lu_unpack(*L.linalg.lu_factor(A), unpack_data=unpack_data, unpack_pivots=unpack_pivots))
    check(run, sample(shape), grad=unpack_data)   # torch 2.13's backward fails on its empty L and U


@pytest.mark.parametrize("left, adjoint", [(True, False), (True, True), (False, False), (False, True)])
@pytest.mark.parametrize("dtype", [numpy.float64, numpy.complex128])
def test_linalg_lu_solve_matches_torch(left, adjoint, dtype):
    A, B = sample((2, 4, 4), dtype), sample((2, 4, 3) if left else (2, 3, 4), dtype, seed=1)

    def run(L, A, B):
        LU, pivots = L.linalg.lu_factor(A)
        return L.linalg.lu_solve(LU, pivots, B, left=left, adjoint=adjoint)
    check(run, A, B)


def test_old_lu_solve_and_gradcheck():
    A, b = sample((3, 3)), sample((3, 2), seed=1)
    check(lambda L, A, b: L.lu_solve(b, *L.linalg.lu_factor(A)), A, b)
    check(lambda L, A, b: b.lu_solve(*L.linalg.lu_factor(A)), A, b)
    gradcheck(lambda L, A, b: L.linalg.lu_solve(*L.linalg.lu_factor(A), b), A, b)


def test_lu_errors():
    check_error(lambda L, A: L.linalg.lu_factor(A), numpy.ones(3))
    check_error(lambda L, A: L.linalg.lu_factor(A), numpy.ones((2, 2), numpy.int64))
    check_error(lambda L, A: L.linalg.lu_factor(A, pivot=False), sample((2, 2)))
    check_error(lambda L, A, B: L.linalg.lu_solve(*L.linalg.lu_factor(A), B), sample((2, 3)), numpy.ones((2, 1)))
    check_error(lambda L, A, B: L.linalg.lu_solve(*L.linalg.lu_factor(A), B), sample((3, 3), numpy.float64),
                numpy.ones((3, 1), numpy.float32))
    check_error(lambda L, A, B: L.linalg.lu_solve(*L.linalg.lu_factor(A), B), sample((3, 3), numpy.float64),
                numpy.ones((2, 1)))


@pytest.mark.parametrize("upper, transpose, unitriangular", [(True, False, False), (False, False, True),
                                                             (True, True, False), (False, True, True)])
def test_triangular_solve_matches_torch(upper, transpose, unitriangular):
    A = sample((2, 4, 4), numpy.float64) + 4 * numpy.eye(4)
    b = sample((3, 1, 4, 2), numpy.float64, seed=1)
    check(lambda L, b, A: tuple(L.triangular_solve(b, A, upper, transpose, unitriangular)), b, A)
    check(lambda L, b, A: tuple(b.triangular_solve(A, upper=upper)), b[0, 0], A[0])


def test_triangular_solve_errors():
    check_error(lambda L, b, A: L.triangular_solve(b, A), numpy.ones((3, 1), numpy.float32), numpy.eye(3))
    check_error(lambda L, b, A: L.triangular_solve(b, A), numpy.ones(3), numpy.eye(3))
