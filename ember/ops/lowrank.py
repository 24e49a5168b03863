"""Randomized low-rank SVD and PCA (Halko, Martinsson and Tropp, 2009), as ``torch.svd_lowrank`` / ``pca_lowrank``."""
from .. import _dtype
from .creation import ones
from .linalg.decompositions import linalg_qr, linalg_svd
from .linalg.products import matmul
from .random import randn

__all__ = ["svd_lowrank", "pca_lowrank"]


def _adjoint(A):
    """A's conjugate transpose; a sparse COO matrix (2-D) through its own ``t``."""
    if A.is_sparse:
        return A.t().conj() if A.is_complex() else A.t()
    return A.mH


def _left_product(Q, A):
    """Q^H A; for a sparse A as (A^H Q)^H, since sparse products take the sparse operand on the left."""
    if A.is_sparse:
        return matmul(_adjoint(A), Q).mH
    return matmul(Q.mH, A)


def _sample_dtype(A):
    # the dtype of the random test matrix: A's when complex or a float PyTorch's LAPACK paths take, else float32
    if A.dtype.is_complex or A.dtype in (_dtype.float16, _dtype.float32, _dtype.float64):
        return A.dtype
    return _dtype.float32


def _range_basis(A, q, niter, M):
    """Orthonormal columns Q (…, m, min(m, q)) with Q Q^H (A - M) close to A - M: a Gaussian sketch of (A - M)'s
    range, refined by ``niter`` rounds of subspace (power) iteration, re-orthonormalized after every product."""
    niter = 2 if niter is None else niter
    sketch = randn(A.shape[-1], q, dtype=_sample_dtype(A), device=A.device)   # one draw, shared by the batch

    def times(X, forward):
        product = matmul(A if forward else _adjoint(A), X)
        if M is not None:
            product = product - matmul(M if forward else M.mH, X)
        return linalg_qr(product).Q

    Q = times(sketch, True)
    for _ in range(niter):
        Q = times(times(Q, False), True)
    return Q


def _svd_lowrank(A, q, niter, M):
    q = 6 if q is None else q
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.size())
    wide = m < n
    if wide:   # work on the tall A^H: the sketch then has min(m, n) rows
        A = _adjoint(A)
        M = None if M is None else M.mH
    Q = _range_basis(A, q, niter, M)
    B = _left_product(Q, A)
    if M is not None:
        B = B - matmul(Q.mH, M)
    U, S, Vh = linalg_svd(B, full_matrices=False)
    U, V = matmul(Q, U), Vh.mH
    return (V, S, U) if wide else (U, S, V)


def svd_lowrank(A, q=6, niter=2, M=None):
    """Approximate truncated SVD ``(U, S, V)`` of ``A`` (…, m, n), or of ``A - M`` when the mean ``M`` (broadcast to
    A's shape) is given: ``A ≈ U diag(S) V^H`` with at most ``q`` singular triplets (``q`` a slightly overestimated
    rank), from a random Gaussian sketch (drawn with ``randn``: follows ``manual_seed``) refined by ``niter`` subspace
    iterations. ``A`` may be a 2-D sparse COO matrix. Differentiable through the ops it is built from."""
    return _svd_lowrank(A, q, niter, M)


def pca_lowrank(A, q=None, center=True, niter=2):
    """Principal component analysis of the data ``A`` (…, m samples, n features) by :func:`svd_lowrank` of the
    column-centred ``A`` (as given when ``center=False``): ``(U, S, V)`` with V's columns the principal directions
    and ``S ** 2 / (m - 1)`` the covariance's leading eigenvalues; ``q`` defaults to ``min(6, m, n)``."""
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not 0 <= q <= min(m, n):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return _svd_lowrank(A, q, niter, None)
    if A.is_sparse:
        if A.ndim != 2:
            raise ValueError("pca_lowrank input is expected to be 2-dimensional tensor")
        from ..sparse import sum as sparse_sum
        # the mean as a dense M (each row the column means), subtracted inside the products: A stays sparse
        means = sparse_sum(A, dim=(-2,)).to_dense().to(_sample_dtype(A)) / m
        M = matmul(ones(m, 1, dtype=means.dtype, device=A.device), means.unsqueeze(0))
        return _svd_lowrank(A, q, niter, M)
    return _svd_lowrank(A - A.mean(dim=(-2,), keepdim=True), q, niter, None)
