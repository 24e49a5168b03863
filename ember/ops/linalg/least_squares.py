"""The pseudo-inverse, matrix rank, condition number and least-squares solutions."""
import math

import numpy

from ... import return_types
from ..._tensor import _make
from ...autograd.function import Primitive, composite
from .._util import name_node, tensor_method, write_out
from ._common import (_adjoint, _check_floating, _check_matrix, _kept, _low_precision, _mH, _name, _real,
                      _tolerances, _xp)
from .decompositions import eigvalsh, svdvals
from .norms import matrix_norm, vector_norm
from .products import matmul
from .solvers import inv_ex

__all__ = ["Pinv", "pinv", "pinverse", "matrix_rank", "cond", "LstsqResult", "lstsq"]


class Pinv(Primitive):
    @staticmethod
    def forward(ctx, a, atol, rtol, hermitian):
        xp = ctx.xp
        if hermitian:
            values, vectors = xp.linalg.eigh(a)
            keep = _kept(xp.abs(values), atol, rtol, xp)
            inverse = xp.where(keep, 1 / xp.where(keep, values, 1), 0).astype(values.dtype)
            result = (vectors * inverse[..., None, :]) @ _adjoint(vectors)
        else:
            u, s, vh = xp.linalg.svd(a, full_matrices=False)
            keep = _kept(s, atol, rtol, xp)
            inverse = xp.where(keep, 1 / xp.where(keep, s, 1), 0).astype(s.dtype)
            result = (_adjoint(vh) * inverse[..., None, :]) @ _adjoint(u)
        result = result.astype(a.dtype, copy=False)
        ctx.save_for_backward(a, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        a, pinv_a = ctx.saved_tensors
        m, n = a.shape[-2], a.shape[-1]
        pinv_h, grad_h = _mH(pinv_a), _mH(grad)
        if m <= n:
            k = matmul(grad_h, pinv_a)
            k_pinv_h = matmul(k, pinv_h)
            return (-_mH(matmul(pinv_a, k)) + k_pinv_h - matmul(matmul(a, pinv_a), k_pinv_h)
                    + matmul(matmul(pinv_h, pinv_a), grad_h - matmul(k, a)))
        k = matmul(pinv_a, grad_h)
        pinv_h_k = matmul(pinv_h, k)
        return (-_mH(matmul(k, pinv_a)) + matmul(matmul(grad_h - matmul(a, k), pinv_a), pinv_h) + pinv_h_k
                - matmul(matmul(pinv_h_k, pinv_a), a))


Pinv._node_cls.__name__ = Pinv._node_cls.__qualname__ = "LinalgPinvBackward0"   # PyTorch's name


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """The Moore-Penrose pseudo-inverse, dropping singular values at or below max(atol, rtol * largest)."""
    if A.ndim < 2 or not (A.dtype.is_floating_point or A.dtype.is_complex) or _low_precision(A):
        raise RuntimeError(f"linalg.pinv({_name(A)}{{{list(A.shape)}}}): expected a tensor with 2 or more dimensions "
                           "of float, double, cfloat or cdouble types")
    if hermitian:
        _check_matrix(A, "linalg.pinv")
    atol_array, rtol_array = _tolerances(A, atol, rtol)
    return write_out(out, Pinv.apply(A, atol_array, rtol_array, hermitian), "linalg.pinv")


@tensor_method
@composite("pinverse", trace_inside=True)
def pinverse(input, rcond=1e-15):
    """The pseudo-inverse, dropping singular values at or below ``rcond`` times the largest."""
    return pinv(input, rtol=rcond)


def _refuse_low_precision(A):
    """PyTorch's refusal of float16/bfloat16 by its tolerance-taking LAPACK paths (matrix_rank, lstsq)."""
    if _low_precision(A):
        raise RuntimeError("This function doesn't handle types other than float and double")


@composite("linalg_matrix_rank")   # seen whole: the rank is counted on the arrays
def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """The number of singular values (|eigenvalues| when ``hermitian``) above max(atol, rtol * largest)."""
    if A.ndim < 2:
        raise RuntimeError("torch.linalg.matrix_rank: The input tensor input must have at least 2 dimensions.")
    _check_floating(A, "torch.linalg.matrix_rank")
    _refuse_low_precision(A)
    xp = _xp(A)
    atol_array, rtol_array = _tolerances(A, atol, rtol)
    magnitudes = xp.abs(eigvalsh(A.detach())._data) if hermitian else svdvals(A.detach())._data
    rank = _kept(magnitudes, atol_array, rtol_array, xp).sum(-1).astype(numpy.int64)
    return write_out(out, _make(xp.asarray(rank)), "linalg.matrix_rank")


@composite("linalg_cond", trace_inside=True)
def cond(A, p=None, *, out=None):
    """The condition number ||A|| ||A^-1|| in the ``p`` norm (the 2-norm ratio of singular values by default)."""
    if A.ndim < 2:
        raise RuntimeError("linalg.cond: The input tensor must have at least 2 dimensions.")
    if p not in (None, 2, -2, 1, -1, math.inf, -math.inf, "fro", "nuc"):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    if p in ("fro", "nuc"):
        _check_matrix(A, f"linalg.cond(ord={p})")
    if A.numel() == 0:   # PyTorch's condition number of empty matrices: 0, square or not
        zeros = _make(_xp(A).zeros(tuple(A.shape[:-2]), dtype=_real(A)._data.dtype))
        return write_out(out, zeros, "linalg.cond")
    if p in (None, 2, -2):
        values = svdvals(A)
        largest, smallest = values.narrow(-1, 0, 1), values.narrow(-1, values.shape[-1] - 1, 1)
        ratio = largest / smallest if p != -2 else smallest / largest
        return write_out(out, ratio.squeeze(-1), "linalg.cond")
    _check_matrix(A, f"linalg.cond(ord={p})")
    inverse, info = inv_ex(A)
    result = matrix_norm(A, p) * matrix_norm(inverse, p)
    singular = _make(_xp(A).asarray(info._data != 0))
    return write_out(out, result.masked_fill(singular, math.inf) if bool(singular._data.any()) else result,
                     "linalg.cond")


LstsqResult = return_types.structseq("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])


@composite("linalg_lstsq", trace_inside=True)
def lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solutions of A X = B (minimum-norm when underdetermined), with residuals, ranks and
    singular values where LAPACK's ``driver`` would return them."""
    if driver is not None and driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    driver = driver or "gelsy"
    if A.ndim < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    _check_floating(A, "torch.linalg.lstsq")
    _refuse_low_precision(A)
    if A.dtype is not B.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got input's "
                           f"dtype {_name(A)} and other's dtype {_name(B)}")
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    matrix_b = B.unsqueeze(-1) if vector else B
    if matrix_b.shape[-2] != A.shape[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    m, n = A.shape[-2], A.shape[-1]
    if rcond is None:
        rcond = float(numpy.finfo(A._data.dtype).eps) * max(m, n)
    solution = matmul(pinv(A, rtol=rcond), matrix_b)
    xp = _xp(A)
    values = svdvals(A.detach())
    ranks = _kept(values._data, xp.asarray(0.0), xp.asarray(rcond), xp).sum(-1).astype(numpy.int64)
    empty_real = _make(xp.zeros((0,), dtype=values._data.dtype))
    residuals = _real((solution.reshape(-1)).narrow(0, 0, 0))   # empty, but an output of the graph as in PyTorch
    if driver != "gelsy" and m > n and bool((ranks == n).all()):
        residuals = vector_norm(matmul(A, solution) - matrix_b, 2, -2) ** 2
    rank = _make(xp.zeros((0,), dtype=numpy.int64)) if driver == "gels" else _make(xp.asarray(ranks))
    singular_values = values if driver in ("gelsd", "gelss") else empty_real
    solution = name_node(solution.squeeze(-1) if vector else solution, "LinalgLstsqBackward0")
    return LstsqResult(solution, residuals, rank, singular_values)
