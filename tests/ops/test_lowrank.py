"""svd_lowrank and pca_lowrank against PyTorch: exact on low-rank matrices, close on decaying spectra, the same
sketch as torch's under the same seed (sign-free outputs and gradients compared), shapes and dtypes, M broadcasting,
centring, sparse COO input and errors."""
import warnings

import numpy
import pytest
import torch

import ember

from ..oracle import as_numpy, check, check_error, gradcheck

RNG = numpy.random.default_rng(7)


def low_rank(shape, rank, dtype=numpy.float64):
    """A (…, m, n) array of rank ``rank`` in each matrix of the batch."""
    *batch, m, n = shape
    left, right = RNG.standard_normal((*batch, m, rank)), RNG.standard_normal((*batch, rank, n))
    if numpy.dtype(dtype).kind == "c":
        left, right = left + 1j * RNG.standard_normal(left.shape), right + 1j * RNG.standard_normal(right.shape)
    return (left @ right).astype(dtype)


def decaying(m, n, decay):
    """An m x n matrix with singular values decay ** i (returned too)."""
    U = numpy.linalg.qr(RNG.standard_normal((m, m)))[0]
    V = numpy.linalg.qr(RNG.standard_normal((n, n)))[0]
    k = min(m, n)
    values = decay ** numpy.arange(k)
    return (U[:, :k] * values) @ V[:, :k].T, values


def reconstruct(U, S, V):
    return (U * S.unsqueeze(-2)) @ V.mH


def sign_free(U, S, V):
    """What does not depend on the singular vectors' phases: S, U diag(S) V^H and the projectors U U^H, V V^H."""
    return S, reconstruct(U, S, V), U @ U.mH, V @ V.mH


@pytest.mark.parametrize("shape", [(9, 6), (6, 9), (3, 8, 5), (2, 2, 5, 7)])
@pytest.mark.parametrize("dtype", [numpy.float64, numpy.complex128])
@pytest.mark.parametrize("rank, q", [(2, 2), (2, 4), (3, 6)])
def test_exact_on_low_rank_matrices(shape, dtype, rank, q):
    A = low_rank(shape, rank, dtype)
    ember.manual_seed(0)
    U, S, V = ember.svd_lowrank(ember.tensor(A), q=q)
    scale = numpy.abs(A).max()
    numpy.testing.assert_allclose(as_numpy(reconstruct(U, S, V)), A, atol=1e-12 * scale, rtol=0)
    exact = torch.linalg.svdvals(torch.tensor(A)).numpy()
    numpy.testing.assert_allclose(as_numpy(S)[..., :rank], exact[..., :rank], rtol=1e-12)
    numpy.testing.assert_allclose(as_numpy(S)[..., rank:], 0, atol=1e-12 * scale)
    k = min(q, *shape[-2:])
    eye = numpy.eye(k)
    numpy.testing.assert_allclose(as_numpy(U.mH @ U), numpy.broadcast_to(eye, (*shape[:-2], k, k)), atol=1e-12)
    numpy.testing.assert_allclose(as_numpy(V.mH @ V), numpy.broadcast_to(eye, (*shape[:-2], k, k)), atol=1e-12)


def test_exact_in_float32():
    A = low_rank((12, 10), 3, numpy.float32)
    ember.manual_seed(1)
    U, S, V = ember.svd_lowrank(ember.tensor(A), q=5)
    assert U.dtype is S.dtype is V.dtype is ember.float32
    numpy.testing.assert_allclose(as_numpy(reconstruct(U, S, V)), A, atol=2e-5 * numpy.abs(A).max())


@pytest.mark.parametrize("niter, rtol", [(2, 2e-3), (3, 1e-3), (4, 3e-4)])
def test_close_to_the_leading_singular_values(niter, rtol):
    A, values = decaying(40, 30, 0.9)
    ember.manual_seed(0)
    _, S, _ = ember.svd_lowrank(ember.tensor(A), q=8, niter=niter)
    numpy.testing.assert_allclose(as_numpy(S)[:4], values[:4], rtol=rtol)
    A, values = decaying(30, 40, 0.6)
    _, S, _ = ember.svd_lowrank(ember.tensor(A), q=8, niter=niter)
    numpy.testing.assert_allclose(as_numpy(S)[:5], values[:5], rtol=1e-6)


def _svd(L, A, **options):
    L.manual_seed(3)   # ember's randn draws torch's numbers: both sketch with the same matrix
    return sign_free(*L.svd_lowrank(A, **options))


def _pca(L, A, **options):
    L.manual_seed(3)
    return sign_free(*L.pca_lowrank(A, **options))


@pytest.mark.parametrize("shape", [(9, 6), (6, 9), (3, 8, 5), (2, 3, 5, 7)])
@pytest.mark.parametrize("options", [{}, {"q": 3}, {"q": 4, "niter": 0}, {"q": 2, "niter": 4}, {"q": None},
                                     {"q": 20, "niter": 1}])
def test_svd_lowrank_matches_torch(shape, options):
    A = RNG.standard_normal(shape)
    check(_svd, A, kwargs=options)


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.complex64, numpy.complex128])
def test_svd_lowrank_dtypes_match_torch(dtype):
    A = RNG.standard_normal((2, 7, 5)).astype(dtype)
    if A.dtype.kind == "c":
        A = A + 1j * RNG.standard_normal(A.shape).astype(dtype)
    check(_svd, A, kwargs={"q": 3}, rtol=1e-4, atol=1e-4)


# q < m where the default q is used: centring drops the rank to m - 1, and the sketch's extra column would be noise
@pytest.mark.parametrize("shape", [(9, 6), (7, 9), (3, 8, 5), (2, 3, 7, 6)])
@pytest.mark.parametrize("options", [{}, {"q": 3}, {"q": 2, "center": False}, {"q": 4, "niter": 3}])
def test_pca_lowrank_matches_torch(shape, options):
    A = RNG.standard_normal(shape) + 2.0   # off-centre columns: centring matters
    check(_pca, A, kwargs=options)


def test_pca_lowrank_centres_the_columns():
    A = low_rank((3, 10, 6), 2) + RNG.standard_normal((3, 1, 6)) * 5
    ember.manual_seed(0)
    U, S, V = ember.pca_lowrank(ember.tensor(A), q=3)
    centred = A - A.mean(axis=-2, keepdims=True)
    numpy.testing.assert_allclose(as_numpy(reconstruct(U, S, V)), centred, atol=1e-10)
    torch.manual_seed(0)
    expected = reconstruct(*torch.pca_lowrank(torch.tensor(A), q=3))
    numpy.testing.assert_allclose(as_numpy(reconstruct(U, S, V)), expected.numpy(), atol=1e-10)


@pytest.mark.parametrize("m_shape", [(6,), (1, 6), (9, 1), (9, 6), (1, 9, 6), (2, 9, 6)])
def test_mean_broadcasts_to_A(m_shape):
    A, M = RNG.standard_normal((2, 9, 6)), RNG.standard_normal(m_shape)
    check(lambda L, A, M: _svd(L, A, q=4, M=M), A, M)
    check(lambda L, A, M: _svd(L, A.mT, q=4, M=M.mT if M.ndim > 1 else M.unsqueeze(-1)), A, M)
    ember.manual_seed(0)
    with_mean = ember.svd_lowrank(ember.tensor(A), q=6, M=ember.tensor(M))
    ember.manual_seed(0)
    subtracted = ember.svd_lowrank(ember.tensor(A - M), q=6)
    for a, b in zip(sign_free(*with_mean), sign_free(*subtracted)):
        numpy.testing.assert_allclose(as_numpy(a), as_numpy(b), atol=1e-12)


@pytest.mark.parametrize("shape, q", [((9, 6), 4), ((6, 9), 4), ((3, 8, 5), 7), ((2, 3, 5, 7), None), ((0, 4), 2),
                                      ((3, 0, 4), 2), ((5, 4), 0)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.complex64])
def test_output_shapes_and_dtypes_match_torch(shape, q, dtype):
    A = torch.randn(shape, dtype=dtype)
    e_A = ember.tensor(A.numpy())
    for name in ("svd_lowrank", "pca_lowrank"):
        if name == "pca_lowrank" and q is not None and q > min(shape[-2:]):
            continue
        if name == "pca_lowrank" and 0 in shape:
            continue
        expected = getattr(torch, name)(A, q=q)
        got = getattr(ember, name)(e_A, q=q)
        assert isinstance(got, tuple) and len(got) == 3
        assert [tuple(t.shape) for t in got] == [tuple(t.shape) for t in expected], name
        assert [str(t.dtype).split(".")[-1] for t in got] == [str(t.dtype).split(".")[-1] for t in expected], name


def test_follows_manual_seed():
    A = ember.tensor(RNG.standard_normal((3, 30, 20)))
    ember.manual_seed(11)
    first = ember.svd_lowrank(A, q=4, niter=0)
    ember.manual_seed(11)
    again = ember.svd_lowrank(A, q=4, niter=0)
    other = ember.svd_lowrank(A, q=4, niter=0)
    for a, b in zip(first, again):
        numpy.testing.assert_array_equal(as_numpy(a), as_numpy(b))
    assert not numpy.array_equal(as_numpy(first[0]), as_numpy(other[0]))


def test_gradients_pass_finite_differences():
    A = RNG.standard_normal((2, 6, 4))

    def run(L, A):
        L.manual_seed(0)
        U, S, V = L.svd_lowrank(A, q=4)
        return S, reconstruct(U, S, V)
    gradcheck(run, A, gradgrad=False)

    def run_pca(L, A):
        L.manual_seed(0)
        return L.pca_lowrank(A, q=3)[1]
    gradcheck(run_pca, A, gradgrad=False)


@pytest.mark.parametrize("wide", [False, True])
def test_sparse_input_matches_torch(wide):
    A = RNG.standard_normal((9, 6))
    A[numpy.abs(A) < 0.8] = 0
    A = A.T.copy() if wide else A
    for name in ("svd_lowrank", "pca_lowrank"):
        torch.manual_seed(5)
        with warnings.catch_warnings():   # torch's sparse pca warns that it skips sparse invariant checks
            warnings.simplefilter("ignore")
            expected = sign_free(*getattr(torch, name)(torch.tensor(A).to_sparse(), q=3))
        ember.manual_seed(5)
        got = sign_free(*getattr(ember, name)(ember.tensor(A).to_sparse(), q=3))
        for a, b in zip(got, expected):
            numpy.testing.assert_allclose(as_numpy(a), b.numpy(), atol=1e-12)


@pytest.mark.parametrize("q", [5, -1, 7])
def test_pca_lowrank_rejects_q_beyond_min_m_n(q):
    error = check_error(lambda L, A: L.pca_lowrank(A, q=q), RNG.standard_normal((4, 5)))
    assert str(error) == f"q(={q}) must be non-negative integer and not greater than min(m, n)=4"


def test_errors_match_torch():
    A = RNG.standard_normal((5, 4))
    error = check_error(lambda L, A: L.pca_lowrank(A, niter=-1), A)
    assert str(error) == "niter(=-1) must be non-negative integer"
    error = check_error(lambda L, A: L.pca_lowrank(L.stack([A, A]).to_sparse(), q=2), A)
    assert str(error) == "pca_lowrank input is expected to be 2-dimensional tensor"
    error = check_error(lambda L, A, M: L.svd_lowrank(A, q=2, M=M), A, RNG.standard_normal((3, 4)))
    assert "The expanded size of the tensor (5) must match the existing size (3)" in str(error)
    check_error(lambda L, A, M: L.svd_lowrank(A, q=2, M=M), A, RNG.standard_normal((2, 5, 4)))
    error = check_error(lambda L, A: L.svd_lowrank(A, q=2), A.astype(numpy.int64))
    assert str(error) == "expected m1 and m2 to have the same dtype, but got: long int != float"
    check_error(lambda L, A: L.svd_lowrank(A, q=2, M=A.double()), A.astype(numpy.float32))
    check_error(lambda L, A: L.pca_lowrank(A, q=2), A.astype(numpy.int64))
    check_error(lambda L, A: L.svd_lowrank(A, q=2), A[0])


def test_svd_lowrank_clips_q_as_torch():
    """svd_lowrank takes any q: min(m, n, q) triplets (only pca_lowrank checks q)."""
    A = RNG.standard_normal((5, 4))
    for q in (4, 5, 9):
        U, S, V = ember.svd_lowrank(ember.tensor(A), q=q)
        assert (tuple(U.shape), tuple(S.shape), tuple(V.shape)) == ((5, 4), (4,), (4, 4))
