"""LDL (Bunch-Kaufman) against PyTorch: linalg.ldl_factor / ldl_factor_ex / ldl_solve; the compact LD and the pivots
equal torch's (symmetric and Hermitian, float32/64 and complex, batched, sizes 0 to past LAPACK's block size,
matrices forcing 2x2 blocks, singular ones), solutions against torch and numpy.linalg.solve, PyTorch's missing
derivatives, errors (type and message) and out=."""

import numpy
import pytest
import torch

import ember

from ..oracle import check, check_same_error, sample

DTYPES = [numpy.float32, numpy.float64, numpy.complex64, numpy.complex128]


def _tolerance(dtype):
    return 1e-4 if dtype in (numpy.float32, numpy.complex64) else 1e-10


def symmetric(shape, dtype, hermitian, seed=0):
    """A random symmetric (or Hermitian) indefinite matrix batch."""
    a = sample(shape, dtype, seed=seed)
    transposed = a.swapaxes(-1, -2)
    return a + (transposed.conj() if hermitian else transposed)


def _compare_factor(A, hermitian, dtype):
    tolerance = _tolerance(dtype)
    check(lambda L, A: tuple(L.linalg.ldl_factor_ex(A, hermitian=hermitian)), A, grad=False, rtol=tolerance,
          atol=tolerance)
    check(lambda L, A: tuple(L.linalg.ldl_factor(A, hermitian=hermitian)), A, grad=False, rtol=tolerance,
          atol=tolerance)


@pytest.mark.parametrize("shape", [(4, 4), (3, 5, 5), (2, 2, 9, 9), (1, 1), (2, 2, 2), (0, 0), (2, 0, 0), (0, 3, 3)])
@pytest.mark.parametrize("hermitian", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_ldl_factor_matches_torch(shape, hermitian, dtype):
    _compare_factor(symmetric(shape, dtype, hermitian), hermitian, dtype)


@pytest.mark.parametrize("n", [30, 70, 130])   # LAPACK's sytrf works in blocks of 64 columns past 64
@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64, numpy.complex128])
def test_ldl_factor_of_large_matrices_matches_torch(n, dtype):
    hermitian = dtype == numpy.complex128
    A = symmetric((2, n, n), dtype, hermitian, seed=n)
    e, t = ember.linalg.ldl_factor_ex(ember.tensor(A), hermitian=hermitian), torch.linalg.ldl_factor_ex(
        torch.tensor(A), hermitian=hermitian)
    numpy.testing.assert_array_equal(e.pivots.numpy(), t.pivots.numpy())
    numpy.testing.assert_array_equal(e.info.numpy(), t.info.numpy())
    scale = numpy.abs(t.LD.numpy()).max()
    numpy.testing.assert_allclose(e.LD.numpy(), t.LD.numpy(), atol=scale * (1e-4 if dtype == numpy.float32 else 1e-11))


@pytest.mark.parametrize("hermitian", [False, True])
@pytest.mark.parametrize("dtype", [numpy.float64, numpy.complex128])
def test_ldl_factor_reads_the_lower_triangle_only(hermitian, dtype):
    _compare_factor(sample((3, 5, 5), dtype), hermitian, dtype)


def _special_matrices():
    """Matrices whose pivots exercise every branch: 2x2 blocks, interchanges, ties, zero columns (info > 0)."""
    rng = numpy.random.default_rng(7)
    fixed = [numpy.zeros((3, 3)), numpy.array([[0.0, 1], [1, 0]]), numpy.array([[0.0, 1, 2], [1, 0, 3], [2, 3, 0]]),
             numpy.diag([1.0, 0, 2]), numpy.ones((4, 4)), numpy.array([[1.0, 2], [2, 4]]), numpy.eye(3)[::-1].copy(),
             numpy.array([[0.0, 0, 1], [0, 0, 0], [1, 0, 0]]), numpy.diag([0.0, 0, 5])]
    for _ in range(6):
        m = rng.integers(-2, 3, (6, 6)).astype(float)
        fixed.append(m + m.T)
        m = rng.integers(-1, 2, (5, 5)).astype(float)
        m[:, 2] = m[2, :] = 0
        fixed.append(m + m.T)
    return fixed


@pytest.mark.parametrize("index", range(len(_special_matrices())))
@pytest.mark.parametrize("hermitian", [False, True])
@pytest.mark.parametrize("dtype", [numpy.float64, numpy.float32, numpy.complex128])
def test_ldl_factor_ex_of_special_matrices_matches_torch(index, hermitian, dtype):
    A = _special_matrices()[index].astype(dtype)
    if dtype == numpy.complex128:   # complex off-diagonal parts, a symmetric or Hermitian matrix still
        skew = 1j * numpy.tril(A, -1)
        A = A + skew + (-skew.T if hermitian else skew.T)
    tolerance = _tolerance(dtype)
    check(lambda L, A: tuple(L.linalg.ldl_factor_ex(A, hermitian=hermitian)), numpy.ascontiguousarray(A), grad=False,
          rtol=tolerance, atol=tolerance)


def test_hermitian_ignores_the_imaginary_part_of_the_diagonal():
    A = symmetric((2, 4, 4), numpy.complex128, True) + 1j * numpy.eye(4)
    _compare_factor(A, True, numpy.complex128)


def test_ldl_factor_ex_in_a_batch_reports_info_per_matrix():
    A = numpy.broadcast_to(numpy.eye(3), (3, 3, 3)).copy()
    A[1, 2, 2] = 0
    A[2] = 0
    check(lambda L, A: tuple(L.linalg.ldl_factor_ex(A)), A, grad=False)


@pytest.mark.parametrize("call", [lambda L, A: L.linalg.ldl_factor(A),
                                  lambda L, A: L.linalg.ldl_factor_ex(A, check_errors=True)])
@pytest.mark.parametrize("A", [numpy.zeros((3, 3)), numpy.stack([numpy.eye(3), numpy.diag([1.0, 1, 0]),
                                                                 numpy.zeros((3, 3))])])
def test_singular_factorizations_raise_as_torch(call, A):
    """PyTorch 2.13 raises its internal assert ("Unknown error code: <info>", the first failing matrix's)."""
    check_same_error(call, A)


@pytest.mark.parametrize("hermitian", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", [((5, 5), (5, 3)), ((3, 4, 4), (3, 4, 2)), ((4, 4), (2, 3, 4, 1)),
                                    ((1, 1), (1, 1)), ((0, 0), (0, 2)), ((3, 3), (3, 0)),
                                    ((0, 2, 2), (0, 2, 1)), ((6, 6), (6, 6))])
def test_ldl_solve_matches_torch_and_numpy(hermitian, dtype, shapes):
    a_shape, b_shape = shapes
    A, B = symmetric(a_shape, dtype, hermitian), sample(b_shape, dtype, seed=1)
    LD, pivots = (t.numpy() for t in torch.linalg.ldl_factor(torch.tensor(A), hermitian=hermitian))
    tolerance = 1e-3 if dtype in (numpy.float32, numpy.complex64) else 1e-9
    result, _ = check(lambda L, LD, p, B: L.linalg.ldl_solve(LD, p, B, hermitian=hermitian), LD, pivots, B,
                      grad=False, rtol=tolerance, atol=tolerance)
    if A.size and B.size:
        expected = numpy.linalg.solve(A.astype(numpy.complex128 if A.dtype.kind == "c" else numpy.float64),
                                      numpy.broadcast_to(B, numpy.broadcast_shapes(A.shape[:-2], B.shape[:-2])
                                                         + B.shape[-2:]))
        numpy.testing.assert_allclose(result.numpy(), expected, rtol=tolerance * 10, atol=tolerance * 10)


@pytest.mark.parametrize("hermitian", [False, True])
def test_ldl_solve_broadcasts_both_batches(hermitian):
    """LD (2, 1) and B (4,) batches broadcast to (2, 4); PyTorch 2.13 crashes (a segmentation fault) on this, so
    the solution is checked against numpy.linalg.solve only."""
    A, B = symmetric((2, 1, 3, 3), numpy.complex128, hermitian), sample((4, 3, 2), numpy.complex128, seed=1)
    LD, pivots = ember.linalg.ldl_factor(ember.tensor(A), hermitian=hermitian)
    x = ember.linalg.ldl_solve(LD, pivots, ember.tensor(B), hermitian=hermitian)
    assert tuple(x.shape) == (2, 4, 3, 2)
    numpy.testing.assert_allclose(x.numpy(), numpy.linalg.solve(A, numpy.broadcast_to(B, (2, 4, 3, 2))), atol=1e-10)


@pytest.mark.parametrize("index", [i for i, A in enumerate(_special_matrices())
                                   if numpy.linalg.matrix_rank(A) == len(A)])
def test_ldl_solve_with_2x2_blocks_and_interchanges(index):
    A = _special_matrices()[index]
    B = sample((len(A), 2), numpy.float64)
    for hermitian in (False, True):
        LD, pivots = ember.linalg.ldl_factor(ember.tensor(A), hermitian=hermitian)
        x = ember.linalg.ldl_solve(LD, pivots, ember.tensor(B), hermitian=hermitian)
        numpy.testing.assert_allclose(x.numpy(), numpy.linalg.solve(A, B), atol=1e-10)


@pytest.mark.parametrize("dtype", [numpy.int64, numpy.int16, numpy.uint8])
def test_ldl_solve_takes_any_integer_pivots(dtype):
    # unsigned pivots hold no 2x2 blocks (negative pivots): a diagonal matrix there
    A = numpy.diag([3.0, -1, 2, 5]) if dtype == numpy.uint8 else symmetric((4, 4), numpy.float64, False)
    B = sample((4, 2), numpy.float64, seed=1)
    LD, pivots = (t.numpy() for t in torch.linalg.ldl_factor(torch.tensor(A)))
    check(lambda L, LD, p, B: L.linalg.ldl_solve(LD, p, B), LD, pivots.astype(dtype), B, grad=False)


def test_no_derivatives_as_in_torch():
    A = symmetric((3, 3), numpy.float64, False)
    for L in (ember, torch):
        x = L.tensor(A, requires_grad=True)
        LD, pivots, info = L.linalg.ldl_factor_ex(x)
        assert LD.requires_grad and not pivots.requires_grad and not info.requires_grad
        assert LD.grad_fn.name() == "torch::autograd::NotImplemented"
        assert type(LD.grad_fn).__name__ == "NotImplemented"
        with pytest.raises(RuntimeError, match=r"^derivative for aten::linalg_ldl_factor_ex is not implemented$"):
            LD.sum().backward()
        LD, pivots = L.linalg.ldl_factor(x)
        with pytest.raises(RuntimeError, match=r"^derivative for aten::linalg_ldl_factor_ex is not implemented$"):
            LD.sum().backward()
        b = L.ones(3, 2, dtype=L.float64, requires_grad=True)
        X = L.linalg.ldl_solve(LD.detach(), pivots, b)
        assert X.requires_grad and X.grad_fn.name() == "torch::autograd::NotImplemented"
        with pytest.raises(RuntimeError, match=r"^derivative for aten::linalg_ldl_solve is not implemented$"):
            X.sum().backward()


def test_result_types_and_out():
    A = symmetric((2, 3, 3), numpy.float32, False)
    result = ember.linalg.ldl_factor_ex(ember.tensor(A))
    assert type(result).__name__ == "linalg_ldl_factor_ex" and result._fields == ("LD", "pivots", "info")
    assert type(ember.linalg.ldl_factor(ember.tensor(A))).__name__ == "linalg_ldl_factor"
    check(lambda L, A: tuple(L.linalg.ldl_factor_ex(A, out=(L.empty(0), L.empty(0, dtype=L.int32),
                                                            L.empty(0, dtype=L.int32)))), A, grad=False)
    check(lambda L, A: tuple(L.linalg.ldl_factor(A.requires_grad_(), out=(L.empty(0), L.empty(0, dtype=L.int32)))),
          A, grad=False)
    LD, pivots = (t.numpy() for t in torch.linalg.ldl_factor(torch.tensor(A)))
    B = sample((2, 3, 2), numpy.float32, seed=1)
    check(lambda L, LD, p, B: L.linalg.ldl_solve(LD, p, B, out=L.empty(0)), LD, pivots, B, grad=False)


@pytest.mark.parametrize("out", [("float64", "int32"), ("float32", "int64"), ("complex64", "int32")])
def test_out_dtype_errors(out):
    A = symmetric((3, 3), numpy.float32, False)
    check_same_error(lambda L, A: L.linalg.ldl_factor(A, out=tuple(L.empty(0, dtype=getattr(L, d)) for d in out)), A)
    check_same_error(lambda L, A: L.linalg.ldl_factor_ex(A, out=tuple(L.empty(0, dtype=getattr(L, d))
                                                                      for d in out + ("int32",))), A)
    if out[0] != "float32":
        LD, pivots = (t.numpy() for t in torch.linalg.ldl_factor(torch.tensor(A)))
        check_same_error(lambda L, LD, p: L.linalg.ldl_solve(LD, p, LD[:, :2].contiguous(),
                                                             out=L.empty(0, dtype=getattr(L, out[0]))), LD, pivots)


@pytest.mark.parametrize("A", [numpy.ones(3), numpy.ones((3, 4)), numpy.ones((3, 3), numpy.int64),
                               numpy.ones((3, 3), bool), numpy.ones((3, 3), numpy.float16),
                               numpy.ones((3, 2), numpy.int64), numpy.ones(3, numpy.int64)])
def test_ldl_factor_errors(A):
    check_same_error(lambda L, A: L.linalg.ldl_factor(A), A)
    check_same_error(lambda L, A: L.linalg.ldl_factor_ex(A), A)


def test_ldl_factor_argument_errors_and_empty_half():
    check_same_error(lambda L: L.linalg.ldl_factor([[1.0]]))
    check_same_error(lambda L: L.linalg.ldl_factor_ex([[1.0]]))
    check(lambda L, A: tuple(L.linalg.ldl_factor(A)), numpy.ones((0, 0), numpy.float16), grad=False)


_P = numpy.array([1, 2, 3], numpy.int32)
_LD = numpy.eye(3)
_SOLVE_ERRORS = [
    (numpy.ones(3), _P, numpy.ones((3, 2))),                             # LD 1-D
    (numpy.ones((3, 2)), _P, numpy.ones((3, 2))),                        # LD not square
    (numpy.ones((3, 2)), _P, numpy.ones((2, 2))),                        # that first
    (numpy.ones((3, 2), numpy.int64), _P, numpy.ones((2, 2))),
    (numpy.ones((3, 3), numpy.int64), _P, numpy.ones((3, 2))),           # LD not floating
    (_LD, _P, numpy.ones((3, 2), numpy.float32)),                        # B of another dtype
    (_LD, _P, numpy.ones((3, 2), numpy.complex128)),
    (_LD, _P[:2], numpy.ones((3, 2), numpy.float32)),                    # that before pivots' shape
    (_LD, _P, numpy.ones(3)),                                            # B 1-D
    (_LD, _P, numpy.array(1.0)),                                         # B 0-d
    (_LD, _P, numpy.ones((2, 2))),                                       # B's rows
    (_LD, _P[:2], numpy.ones((2, 2))),                                   # that before pivots' shape
    (_LD, _P[:2], numpy.ones((3, 2))),                                   # pivots' shape
    (_LD, _P[None], numpy.ones((3, 2))),
    (numpy.broadcast_to(_LD, (3, 3, 3)).copy(), _P, numpy.ones((3, 2))),  # pivots are not broadcast
    (_LD, _P.astype(numpy.float32), numpy.ones((3, 2))),                 # pivots not integers
    (_LD, _P.astype(bool), numpy.ones((3, 2))),
    (numpy.broadcast_to(_LD, (3, 3, 3)).copy(), numpy.broadcast_to(_P, (3, 3)).copy(), numpy.ones((2, 3, 2))),
    (_LD.astype(numpy.float16), _P, numpy.ones((3, 2), numpy.float16)),  # the kernel's dtypes
    (_LD.astype(numpy.float16), _P, numpy.ones((3, 0), numpy.float16)),
]


@pytest.mark.parametrize("LD, pivots, B", _SOLVE_ERRORS)
def test_ldl_solve_errors(LD, pivots, B):
    check_same_error(lambda L, LD, p, B: L.linalg.ldl_solve(LD, p, B), LD, pivots, B)


def test_ldl_solve_argument_errors_and_empty_half():
    check_same_error(lambda L, p, B: L.linalg.ldl_solve([[1.0]], p, B), _P, numpy.ones((3, 2)))
    check_same_error(lambda L, LD, B: L.linalg.ldl_solve(LD, [1, 2, 3], B), _LD, numpy.ones((3, 2)))
    check_same_error(lambda L, LD, p: L.linalg.ldl_solve(LD, p, [1.0]), _LD, _P)
    check(lambda L, LD, p, B: L.linalg.ldl_solve(LD, p, B), numpy.ones((0, 0), numpy.float16),
          numpy.ones(0, numpy.int32), numpy.ones((0, 2), numpy.float16), grad=False)
