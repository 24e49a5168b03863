"""``linalg.vander``, ``tensorinv``, ``tensorsolve`` and ``solve_ex``: PyTorch's compositions of the matrix solvers
and products (Vandermonde matrices, inverses and solves of tensors read as matrices, a solve that reports singular
systems instead of raising)."""
import math

from ... import _dtype, return_types
from ..._tensor import _make
from ...autograd.function import composite
from ..creation import ones_like
from ..cumulative import cumprod
from ..rearrange import cat
from ._common import _check_matrix, _lu_info, _xp
from .solvers import inv, solve

__all__ = ["vander", "tensorinv", "tensorsolve", "SolveEx", "solve_ex"]

SolveEx = return_types.structseq("linalg_solve_ex", ["result", "info"])


@composite("linalg_vander", trace_inside=True)
def vander(x, *, N=None):
    """The Vandermonde matrix of ``x`` (..., n): columns x^0, x^1, ..., x^(N-1) (N defaults to n), as products."""
    if x.dtype in (_dtype.bfloat16, _dtype.float16, _dtype.bool_):
        raise RuntimeError("linalg.vander supports floating point, complex, and integer tensors, but got "
                           f"{_dtype.scalar_type_name(x.dtype)}")
    n = x.shape[-1] if N is None and x.ndim else N
    if n is None or n <= 1:
        raise RuntimeError("N must be greater than 1.")
    column = x.unsqueeze(-1)
    return cumprod(cat([ones_like(column), column.expand(*x.shape, n - 1)], -1), -1)


@composite("linalg_tensorinv", trace_inside=True)
def tensorinv(A, ind=2, *, out=None):
    """The tensor X with ``tensordot(X, A, ind)`` the identity: ``A`` read as a (prod(shape[:ind]),
    prod(shape[ind:])) square matrix, inverted, shaped ``shape[ind:] + shape[:ind]``."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, columns = math.prod(A.shape[:ind]), math.prod(A.shape[ind:])
    if rows != columns:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {columns} != {rows}")
    result = inv(A.reshape(rows, columns)).reshape(tuple(A.shape[ind:]) + tuple(A.shape[:ind]))
    return result if out is None else out.copy_(result)


@composite("linalg_tensorsolve", trace_inside=True)
def tensorsolve(A, B, dims=None, *, out=None):
    """X with ``tensordot(A, X, X.ndim) == B``: ``A`` (its ``dims`` moved last first) read as a square matrix over
    B's elements."""
    if dims is not None:
        dims = tuple(dims)
        A = A.movedim(dims, tuple(range(A.ndim - len(dims), A.ndim)))
    result_shape = tuple(A.shape[B.ndim:])
    columns, rows = math.prod(result_shape), math.prod(A.shape[:B.ndim])
    if columns != rows:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
                           f"prod(self.shape[:other.ndim]), but got {columns} != {rows}")
    result = solve(A.reshape(rows, columns), B.reshape(rows)).reshape(result_shape)
    return result if out is None else out.copy_(result)


@composite("linalg_solve_ex", trace_inside=True)
def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    """``linalg.solve`` and a LAPACK-style ``info`` per matrix (nonzero where A is singular) instead of raising
    (unless ``check_errors``); where it is nonzero the result is not meaningful."""
    _check_matrix(A, "linalg.solve_ex", kernel="lu_cpu")
    info = _lu_info(A._data).reshape(tuple(A.shape[:-2]))
    if check_errors and info.any():
        solve(A, B, left=left)
    if info.any():   # solve the singular systems against the identity: a result of the right shape, no error
        xp = _xp(A)
        A = _make(xp.where(xp.asarray(info != 0)[..., None, None], xp.eye(A.shape[-1], dtype=A._data.dtype),
                           A._data))
    result = SolveEx(solve(A, B, left=left), _make(_xp(A).asarray(info)))
    if out is not None:
        out[0].copy_(result.result)
        out[1].copy_(result.info)
        return SolveEx(*out)
    return result
