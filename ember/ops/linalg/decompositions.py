"""Decompositions with gradients: Cholesky, QR, SVD and eigendecompositions."""

import numpy

from ... import return_types
from ..._tensor import _make
from ...autograd.function import Primitive, composite
from .._util import argument_error, name_node, recorded, tensor_method, warn_once, write_out
from ._common import (
    LinAlgError,
    _adjoint,
    _check_matrix,
    _conj,
    _diag_embed,
    _eye_like,
    _FactorizationFailed,
    _mH,
    _name,
    _raise_with_info,
    _real,
    _solve_array,
    _write_outs,
    _xp,
)
from .products import matmul
from .solvers import solve, solve_triangular

__all__ = ["CholeskyExResult", "Cholesky", "linalg_cholesky", "cholesky_ex", "cholesky", "CholeskySolve",
           "cholesky_solve", "cholesky_inverse", "QRResult", "QR", "linalg_qr", "qr", "SVDResult", "LegacySVDResult",
           "SVD", "linalg_svd", "svdvals", "svd", "EighResult", "EigResult", "Eigh", "Eig", "eigh", "eigvalsh", "eig",
           "eigvals"]


CholeskyExResult = return_types.structseq("linalg_cholesky_ex", ["L", "info"])


_NOT_PD = ("The factorization could not be completed because the input is not positive-definite (the leading "
           "minor of order {} is not positive-definite).")


def _cholesky_unblocked(a):
    """The lower Cholesky factor computed column by column on the host, and LAPACK potrf's ``info`` per matrix
    (the order of the first leading minor that is not positive-definite, 0 when none): for the error path."""
    host = numpy.asarray(a.get() if hasattr(a, "get") else a)
    work = host.astype(numpy.result_type(host.dtype, numpy.float64)).reshape((-1,) + host.shape[-2:])
    n = work.shape[-1]
    factor = numpy.zeros_like(work)
    info = numpy.zeros(work.shape[0], dtype=numpy.int32)
    with numpy.errstate(all="ignore"):
        for j in range(n):
            pivot = work[:, j, j].real - (numpy.abs(factor[:, j, :j]) ** 2).sum(-1)
            bad = ~(pivot > 0)
            info = numpy.where((info == 0) & bad, j + 1, info)
            root = numpy.sqrt(numpy.where(bad, 1, pivot))
            factor[:, j, j] = numpy.where(info == 0, root, pivot)
            column = work[:, j + 1:, j] - (factor[:, j + 1:, :j] @ factor[:, j, :j].conj()[:, :, None])[..., 0]
            factor[:, j + 1:, j] = column / root[:, None]
    return factor.astype(host.dtype).reshape(host.shape), info.reshape(host.shape[:-2])


class Cholesky(Primitive):
    @staticmethod
    def forward(ctx, a, upper):
        xp = ctx.xp
        ctx.upper = upper
        source = _adjoint(a) if upper else a   # potrf reads the triangle it is told to; NumPy reads the lower one
        try:
            lower = xp.linalg.cholesky(source)
            failed = bool(xp.isnan(lower).any())
        except numpy.linalg.LinAlgError:
            failed = True
        if failed:
            lower, info = _cholesky_unblocked(source)
            if info.any():
                raise _FactorizationFailed(info)
            lower = xp.asarray(lower)
        factor = _adjoint(lower) if upper else lower
        ctx.save_for_backward(factor)
        return factor

    @staticmethod
    def backward(ctx, grad):
        factor, = ctx.saved_tensors
        lower = _mH(factor) if ctx.upper else factor
        grad_lower = _mH(grad) if ctx.upper else grad
        phi = (matmul(_mH(lower), grad_lower)).tril()
        phi = (phi + _mH(phi.tril(-1))) * 0.5
        grad_a = solve_triangular(_mH(lower), phi, upper=True)
        return solve_triangular(lower, grad_a, upper=False, left=False)


Cholesky._node_cls.__name__ = Cholesky._node_cls.__qualname__ = "LinalgCholeskyExBackward0"   # PyTorch's name


def _cholesky(A, upper, name):
    _check_matrix(A, name, kernel="cholesky_cpu")
    try:
        return Cholesky.apply(A, upper)
    except _FactorizationFailed as failure:
        _raise_with_info(name, failure.info, _NOT_PD)


@composite("linalg_cholesky", trace_inside=True)
def linalg_cholesky(A, *, upper=False, out=None):
    """The Cholesky factor L (A = L L^H) of each Hermitian positive-definite matrix, or U = L^H when ``upper``."""
    return write_out(out, _cholesky(A, upper, "linalg.cholesky"), "linalg.cholesky")


@composite("linalg_cholesky_ex", trace_inside=True)
def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    """The Cholesky factor and LAPACK's ``info`` per matrix (the order of the first leading minor that is not
    positive-definite, 0 on success) instead of raising."""
    _check_matrix(A, "linalg.cholesky_ex", kernel="cholesky_cpu")
    xp = _xp(A)
    try:
        factor = Cholesky.apply(A, upper)
        info = _make(xp.zeros(A.shape[:-2], dtype=numpy.int32))
    except _FactorizationFailed as failure:
        if check_errors:
            _raise_with_info("linalg.cholesky_ex", failure.info, _NOT_PD)
        lower, info = _cholesky_unblocked(_adjoint(A._data) if upper else A._data)
        factor, info = _make(xp.asarray(_adjoint(lower) if upper else lower)), _make(xp.asarray(info))
    return _write_outs(out, CholeskyExResult(factor, info), "linalg.cholesky_ex")


@tensor_method
@composite("cholesky", trace_inside=True)
def cholesky(input, upper=False, *, out=None):
    """The Cholesky factor of each positive-definite matrix (deprecated: use ``linalg.cholesky``)."""
    warn_once("cholesky", "torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a "
              "future PyTorch release.\nL = torch.cholesky(A)\nshould be replaced with\nL = torch.linalg.cholesky(A)\n"
              "and\nU = torch.cholesky(A, upper=True)\nshould be replaced with\nU = torch.linalg.cholesky(A).mH\n"
              "This transform will produce equivalent results for all valid (symmetric positive definite) inputs.")
    return write_out(out, name_node(_cholesky(input, upper, "cholesky"), "CholeskyBackward0"), "cholesky")


class CholeskySolve(Primitive):
    @staticmethod
    def forward(ctx, b, factor, upper):
        xp = ctx.xp
        ctx.upper = upper
        lower = _adjoint(xp.triu(factor)) if upper else xp.tril(factor)
        result = _solve_array(xp, _adjoint(lower), _solve_array(xp, lower, b, False), True)
        ctx.save_for_backward(factor, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        factor, result = ctx.saved_tensors
        grad_b = cholesky_solve(grad, factor, ctx.upper)
        grad_factor = None
        if ctx.needs_input_grad[1]:
            common = matmul(grad_b, _mH(result))
            common = common + _mH(common)
            grad_factor = -matmul(factor, common) if ctx.upper else -matmul(common, factor)
        return grad_b if ctx.needs_input_grad[0] else None, grad_factor


@tensor_method
@composite("cholesky_solve", trace_inside=True)
def cholesky_solve(input, input2, upper=False, *, out=None):
    """X with A X = B given B (``input``) and A's Cholesky factor (``input2``, lower unless ``upper``)."""
    b, factor = input, input2
    if b.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {b.ndim} dimensions instead")
    if factor.ndim < 2:
        raise RuntimeError(f"u should have at least 2 dimensions, but has {factor.ndim} dimensions instead")
    if b.dtype is not factor.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type {_name(b)} and A of type "
                           f"{_name(factor)} instead.")
    _check_matrix(factor, "cholesky_solve", kernel="cholesky_solve_cpu")
    if b.shape[-2] != factor.shape[-1]:
        raise RuntimeError(f"Incompatible matrix sizes for cholesky_solve: each A matrix is {factor.shape[-1]} by "
                           f"{factor.shape[-1]} but each b matrix is {b.shape[-2]} by {b.shape[-1]}")
    return write_out(out, CholeskySolve.apply(b, factor, upper), "cholesky_solve")


@tensor_method
@composite("cholesky_inverse", trace_inside=True)
def cholesky_inverse(input, upper=False, *, out=None):
    """The inverse of A = L L^H (or U^H U when ``upper``) from its Cholesky factor."""
    _check_matrix(input, "cholesky_inverse", kernel="cholesky_inverse_out_cpu")
    identity = _eye_like(input).expand(tuple(input.shape))
    return write_out(out, CholeskySolve.apply(identity, input, upper), "cholesky_inverse")


QRResult = return_types.structseq("linalg_qr", ["Q", "R"])


class QR(Primitive):
    @staticmethod
    def forward(ctx, a, mode):
        xp = ctx.xp
        ctx.mode = mode
        if mode == "r":
            q, r = xp.zeros((0,), dtype=a.dtype), xp.linalg.qr(a, mode="r")
        else:
            q, r = xp.linalg.qr(a, mode=mode)
        ctx.save_for_backward(q, r)
        ctx.set_materialize_grads(False)
        return q, r

    @staticmethod
    def backward(ctx, grad_q, grad_r):
        q, r = ctx.saved_tensors
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        m, n = q.shape[-2], r.shape[-1]
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        if grad_q is None and grad_r is None:
            return None
        if grad_q is None:
            grad_a = matmul(grad_r, _mH(r))
        else:
            grad_a = -matmul(_mH(q), grad_q)
            if grad_r is not None:
                grad_a = grad_a + matmul(grad_r, _mH(r))
        if m >= n:
            upper = grad_a.triu()
            grad_a = matmul(q, upper + _mH(upper) - _diag_embed(_real(upper.diagonal(0, -2, -1))))
            if grad_q is not None:
                grad_a = grad_a + grad_q
            return solve_triangular(_mH(r), grad_a, upper=False, left=False)
        skew = -grad_a + _mH(grad_a)
        grad_a = matmul(q, skew.tril() - _diag_embed(skew.diagonal(0, -2, -1)) * 0.5)
        grad_a = solve_triangular(_mH(r.narrow(-1, 0, m)), grad_a, upper=False, left=False)
        from ..padding import pad
        grad_a = pad(grad_a, (0, n - m))
        return grad_a + matmul(q, grad_r) if grad_r is not None else grad_a


QR._node_cls.__name__ = QR._node_cls.__qualname__ = "LinalgQrBackward0"   # PyTorch's name


@composite("linalg_qr", trace_inside=True)
def linalg_qr(A, mode="reduced", *, out=None):
    """Q with orthonormal columns and upper-triangular R with A = Q R; ``mode`` is 'reduced', 'complete' or 'r'
    (R only; Q comes back empty)."""
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or "
                           "'complete'")
    _check_matrix(A, "linalg.qr", square=False, kernel="geqrf_cpu")
    return _write_outs(out, QRResult(*QR.apply(A, mode)), "linalg.qr")


@tensor_method
@composite("qr", trace_inside=True)
def qr(input, some=True, *, out=None):
    """Q R factorization of each matrix, reduced unless ``some=False`` (deprecated: use ``linalg.qr``)."""
    if some is not True and some is not False:
        argument_error()
    warn_once("qr", "torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch "
              "release.\nThe boolean parameter 'some' has been replaced with a string parameter 'mode'.\nQ, R = "
              "torch.qr(A, some)\nshould be replaced with\nQ, R = torch.linalg.qr(A, 'reduced' if some else "
              "'complete')")
    _check_matrix(input, "linalg.qr", square=False, kernel="geqrf_cpu")
    return _write_outs(out, QRResult(*QR.apply(input, "reduced" if some else "complete")), "qr")


SVDResult = return_types.structseq("linalg_svd", ["U", "S", "Vh"])


LegacySVDResult = return_types.structseq("svd", ["U", "S", "V"])


class SVD(Primitive):
    @staticmethod
    def forward(ctx, a, full_matrices):
        try:
            u, s, vh = ctx.xp.linalg.svd(a, full_matrices=full_matrices)
        except numpy.linalg.LinAlgError:
            raise _FactorizationFailed() from None
        ctx.save_for_backward(u, s, vh)
        ctx.set_materialize_grads(False)
        return u, s, vh

    @staticmethod
    def backward(ctx, grad_u, grad_s, grad_vh):
        u, s, vh = ctx.saved_tensors
        if grad_u is None and grad_s is None and grad_vh is None:
            return None
        k = s.shape[-1]
        if u.shape[-1] != k:   # full_matrices: only the first k singular vectors depend smoothly on A
            u, grad_u = u.narrow(-1, 0, k), None if grad_u is None else grad_u.narrow(-1, 0, k)
        if vh.shape[-2] != k:
            vh, grad_vh = vh.narrow(-2, 0, k), None if grad_vh is None else grad_vh.narrow(-2, 0, k)
        return _svd_backward(grad_u, grad_s, grad_vh, u, s, vh)


SVD._node_cls.__name__ = SVD._node_cls.__qualname__ = "LinalgSvdBackward0"   # PyTorch's name


def _svd_backward(grad_u, grad_s, grad_vh, u, s, vh):
    """PyTorch's svd_backward (distinct singular values; full rank when rectangular or complex)."""
    m, n = u.shape[-2], vh.shape[-1]
    if grad_u is None and grad_vh is None:
        return matmul(u * grad_s.unsqueeze(-2), vh)
    uh_gu = _skew(matmul(_mH(u), grad_u)) if grad_u is not None else None
    vh_gv = _skew(matmul(vh, _mH(grad_vh))) if grad_vh is not None else None
    if u.dtype.is_complex:
        xp = _xp(u)
        zeros = xp.zeros(s.shape)
        phase_u = xp.imag(uh_gu.diagonal(0, -2, -1)._data) if uh_gu is not None else zeros
        phase_v = xp.imag(vh_gv.diagonal(0, -2, -1)._data) if vh_gv is not None else zeros
        if not xp.allclose(phase_u, -phase_v, rtol=1e-2, atol=1e-2):
            raise RuntimeError("svd_backward: The singular vectors in the complex case are specified up to "
                               "multiplication by e^{i phi}. The specified loss function depends on this phase term, "
                               "making it ill-defined.")
    squares = s * s
    gaps = squares.unsqueeze(-2) - squares.unsqueeze(-1) + _eye_like(s, s.shape[-1])
    if uh_gu is not None and vh_gv is not None:
        inner = (uh_gu * s.unsqueeze(-2) + s.unsqueeze(-1) * vh_gv) / gaps
    elif uh_gu is not None:
        inner = uh_gu / gaps * s.unsqueeze(-2)
    else:
        inner = s.unsqueeze(-1) * (vh_gv / gaps)
    if grad_s is not None:
        inner = inner + _diag_embed(grad_s)
    if u.dtype.is_complex and uh_gu is not None and vh_gv is not None:
        inner = inner + _diag_embed(uh_gu.diagonal(0, -2, -1) / (2 * s))
    if m > n and grad_u is not None:
        grad_u_scaled = grad_u / s.unsqueeze(-2)
        outer = matmul(u, inner) + grad_u_scaled - matmul(u, matmul(_mH(u), grad_u_scaled))
        return matmul(outer, vh)
    if m < n and grad_vh is not None:
        grad_vh_scaled = grad_vh / s.unsqueeze(-1)
        outer = matmul(inner, vh) + grad_vh_scaled - matmul(matmul(grad_vh_scaled, _mH(vh)), vh)
        return matmul(u, outer)
    return matmul(u, matmul(inner, vh))


def _skew(x):
    return x - _mH(x)


def _check_finite(A, message):
    if not bool(_xp(A).isfinite(A._all_data).all()):   # every example's, inside vmap
        raise LinAlgError(message)


def _svd(A, full_matrices, name):
    _check_matrix(A, name, square=False, kernel="linalg_svd_cpu")
    _check_finite(A, f"{name}: The algorithm failed to converge because the input matrix contained non-finite "
                     "values.")
    return SVD.apply(A, full_matrices)


@composite("linalg_svd", trace_inside=True)
def linalg_svd(A, full_matrices=True, *, driver=None, out=None):
    """A = U diag(S) Vh with orthonormal U, Vh and descending S (U, Vh square when ``full_matrices``)."""
    _check_driver(driver)
    return _write_outs(out, SVDResult(*_svd(A, full_matrices, "linalg.svd")), "linalg.svd")


def _check_driver(driver):
    if driver is not None:
        raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported on CUDA inputs with "
                           "cuSOLVER backend.")


@composite("linalg_svdvals", trace_inside=True)
def svdvals(A, *, driver=None, out=None):
    """The singular values of each matrix, in descending order."""
    _check_driver(driver)
    if recorded(A):
        return write_out(out, _svd(A, False, "linalg.svd")[1], "linalg.svdvals")
    _check_matrix(A, "linalg.svd", square=False, kernel="linalg_svd_cpu")
    _check_finite(A, "linalg.svd: The algorithm failed to converge because the input matrix contained non-finite "
                     "values.")
    return write_out(out, _make(_xp(A).linalg.svd(A._data, compute_uv=False)), "linalg.svdvals")


@tensor_method
@composite("svd", trace_inside=True)
def svd(input, some=True, compute_uv=True, *, out=None):
    """U, S, V (not Vh) with input = U diag(S) V^H; reduced unless ``some=False``; zero U and V when not
    ``compute_uv``. Prefer ``linalg.svd``."""
    if not (some is True or some is False) or not (compute_uv is True or compute_uv is False):
        argument_error()
    if not compute_uv:
        values = svdvals(input)
        xp = _xp(input)
        batch, (m, n) = tuple(input.shape[:-2]), tuple(input.shape[-2:])
        return _write_outs(out, LegacySVDResult(_make(xp.zeros(batch + (m, m), dtype=input._data.dtype)), values,
                                                _make(xp.zeros(batch + (n, n), dtype=input._data.dtype))), "svd")
    u, s, vh = _svd(input, not some, "linalg.svd")
    return _write_outs(out, LegacySVDResult(u, s, _mH(vh)), "svd")


EighResult = return_types.structseq("linalg_eigh", ["eigenvalues", "eigenvectors"])


EigResult = return_types.structseq("linalg_eig", ["eigenvalues", "eigenvectors"])


class Eigh(Primitive):
    @staticmethod
    def forward(ctx, a, uplo):
        try:
            values, vectors = ctx.xp.linalg.eigh(a, UPLO=uplo)
        except numpy.linalg.LinAlgError:
            raise _FactorizationFailed() from None
        ctx.save_for_backward(values, vectors)
        ctx.set_materialize_grads(False)
        return values, vectors

    @staticmethod
    def backward(ctx, grad_values, grad_vectors):
        values, vectors = ctx.saved_tensors
        return _eig_backward(grad_values, grad_vectors, values, vectors, True)


Eigh._node_cls.__name__ = Eigh._node_cls.__qualname__ = "LinalgEighBackward0"   # PyTorch's name


class Eig(Primitive):
    @staticmethod
    def forward(ctx, a):
        xp = ctx.xp
        complex_type = numpy.complex64 if a.dtype in (numpy.float32, numpy.complex64) else numpy.complex128
        try:
            values, vectors = xp.linalg.eig(a)
        except numpy.linalg.LinAlgError:
            raise _FactorizationFailed() from None
        values, vectors = values.astype(complex_type, copy=False), vectors.astype(complex_type, copy=False)
        ctx.real_input = a.dtype.kind != "c"
        ctx.save_for_backward(values, vectors)
        ctx.set_materialize_grads(False)
        return values, vectors

    @staticmethod
    def backward(ctx, grad_values, grad_vectors):
        values, vectors = ctx.saved_tensors
        grad = _eig_backward(grad_values, grad_vectors, values, vectors, False)
        return _real(grad) if grad is not None and ctx.real_input else grad


Eig._node_cls.__name__ = Eig._node_cls.__qualname__ = "LinalgEigBackward0"   # PyTorch's name


def _eig_backward(grad_values, grad_vectors, values, vectors, hermitian):
    """PyTorch's linalg_eig_backward: gA = V^-H (diag(gL) + (V^H gV - V^H V Re(diag(V^H gV))) / conj(E)) V^H,
    E_ij = L_j - L_i, with unit-norm eigenvectors (V^-1 = V^H when Hermitian)."""
    if grad_values is None and grad_vectors is None:
        return None
    v_h = _mH(vectors)
    if grad_vectors is None:
        if hermitian:
            return matmul(vectors * grad_values.unsqueeze(-2), v_h)
        return solve(v_h, grad_values.unsqueeze(-1) * v_h)
    vh_gv = matmul(v_h, grad_vectors)
    diagonal = vh_gv.diagonal(0, -2, -1)
    if vectors.dtype.is_complex and not bool(_xp(diagonal).allclose(_xp(diagonal).imag(diagonal._data), 0,
                                                                    rtol=1e-2, atol=1e-2)):
        raise RuntimeError(f"{'linalg_eigh_backward' if hermitian else 'linalg_eig_backward'}: The eigenvectors in "
                           "the complex case are specified up to multiplication by e^{i phi}. The specified loss "
                           "function depends on this quantity, so it is ill-defined.")
    if hermitian:
        vh_gv = (vh_gv - _mH(vh_gv)) * 0.5
    else:
        vh_gv = vh_gv - matmul(v_h, vectors * (_real(diagonal)).unsqueeze(-2))
    conj_values = _conj(values)
    gaps = conj_values.unsqueeze(-2) - conj_values.unsqueeze(-1) + _eye_like(values, values.shape[-1])
    inner = vh_gv / gaps
    if grad_values is not None:
        inner = inner - _diag_embed(inner.diagonal(0, -2, -1)) + _diag_embed(grad_values)
    if hermitian:
        return matmul(vectors, matmul(inner, v_h))
    return solve(v_h, matmul(inner, v_h))


def _check_uplo(UPLO):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def _eigh(A, UPLO, name):
    _check_uplo(UPLO)
    _check_matrix(A, name, kernel="linalg_eigh_cpu")
    try:
        return Eigh.apply(A, UPLO)
    except _FactorizationFailed:
        raise LinAlgError(f"{name}: The algorithm failed to converge because the input matrix is ill-conditioned "
                          "or has too many repeated eigenvalues (error code: 1).") from None


@composite("linalg_eigh", trace_inside=True)
def eigh(A, UPLO="L", *, out=None):
    """Ascending eigenvalues and orthonormal eigenvectors of each Hermitian matrix (reading the ``UPLO``
    triangle)."""
    return _write_outs(out, EighResult(*_eigh(A, UPLO, "linalg.eigh")), "linalg.eigh")


@composite("linalg_eigvalsh", trace_inside=True)
def eigvalsh(A, UPLO="L", *, out=None):
    """Ascending eigenvalues of each Hermitian matrix (reading the ``UPLO`` triangle)."""
    if recorded(A):
        return write_out(out, _eigh(A, UPLO, "linalg.eigh")[0], "linalg.eigvalsh")
    _check_uplo(UPLO)
    _check_matrix(A, "linalg.eigh", kernel="linalg_eigh_cpu")
    return write_out(out, _make(_xp(A).linalg.eigvalsh(A._data, UPLO=UPLO)), "linalg.eigvalsh")


def _eig(A, name):
    _check_matrix(A, name, kernel="linalg_eig_out_cpu")
    _check_finite(A, f"torch.{name}: input tensor should not contain infs or NaNs.")
    try:
        return Eig.apply(A)
    except _FactorizationFailed:
        raise LinAlgError(f"{name}: The algorithm failed to converge because the input matrix is ill-conditioned "
                          "or has too many repeated eigenvalues (error code: 1).") from None


@composite("linalg_eig", trace_inside=True)
def eig(A, *, out=None):
    """Complex eigenvalues and unit-norm eigenvectors of each square matrix."""
    return _write_outs(out, EigResult(*_eig(A, "linalg.eig")), "linalg.eig")


@composite("linalg_eigvals", trace_inside=True)
def eigvals(A, *, out=None):
    """Complex eigenvalues of each square matrix."""
    return write_out(out, _eig(A, "linalg.eig")[0], "linalg.eigvals")
