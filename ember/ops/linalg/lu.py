"""LU factorization with partial pivoting (A = P L U, batched, square or rectangular) and what uses it:
linalg.lu_factor / lu_factor_ex / lu / lu_solve, and the older torch.lu, lu_unpack, lu_solve and triangular_solve."""

import numpy

from ... import return_types
from ..._tensor import _make
from ...autograd.function import Primitive, composite
from .._util import name_node, tensor_method, warn_once, write_out
from ..rearrange import cat
from ..tuple_out import write_tuple
from ._common import _batch_shape, _check_floating, _low_precision, _mH, _name, _xp
from .products import matmul
from .solvers import solve_triangular

__all__ = ["lu", "lu_unpack", "lu_solve", "triangular_solve"]

LUFactor = return_types.structseq("linalg_lu_factor", ["LU", "pivots"])
LUFactorEx = return_types.structseq("linalg_lu_factor_ex", ["LU", "pivots", "info"])
LUWithInfo = return_types.structseq("_lu_with_info", ["LU", "pivots", "info"])
PLU = return_types.structseq("linalg_lu", ["P", "L", "U"])
LUUnpack = return_types.structseq("lu_unpack", ["P", "L", "U"])
TriangularSolve = return_types.structseq("triangular_solve", ["solution", "cloned_coefficient"])


def _getrf(xp, a):
    """LAPACK getrf on a batch (..., m, n): the packed L\\U, 1-based int32 row pivots and info (1 + the first zero
    pivot, else 0). Pivots are the largest |x| (|re| + |im| for complex, as LAPACK) in each column."""
    batch, (m, n) = a.shape[:-2], a.shape[-2:]
    a = a.reshape((int(numpy.prod(batch)), m, n)).copy()
    k = min(m, n)
    pivots = xp.zeros((a.shape[0], k), dtype=numpy.int32)
    info = xp.zeros(a.shape[0], dtype=numpy.int32)
    rows = xp.arange(a.shape[0])
    for j in range(k):
        column = a[:, j:, j]
        size = xp.abs(column.real) + xp.abs(column.imag) if a.dtype.kind == "c" else xp.abs(column)
        p = j + xp.argmax(size, axis=1)
        pivots[:, j] = p + 1
        row_j = a[rows, j].copy()
        a[rows, j] = a[rows, p]
        a[rows, p] = row_j
        head = a[:, j, j]
        zero = head == 0
        info = xp.where((info == 0) & zero, j + 1, info).astype(numpy.int32)
        factors = a[:, j + 1:, j] / xp.where(zero, 1, head)[:, None]
        a[:, j + 1:, j] = factors
        a[:, j + 1:, j + 1:] -= factors[:, :, None] * a[:, j, None, j + 1:]
    return a.reshape(batch + (m, n)), pivots.reshape(batch + (k,)), info.reshape(batch)


def _permutation(xp, pivots, m, dtype):
    """P (..., m, m) from 1-based row pivots: A = P L U."""
    batch = pivots.shape[:-1]
    pivots = pivots.reshape((int(numpy.prod(batch)), pivots.shape[-1])).astype(numpy.int64) - 1
    order = xp.broadcast_to(xp.arange(m), (pivots.shape[0], m)).copy()
    rows = xp.arange(pivots.shape[0])
    for j in range(pivots.shape[1]):
        p = pivots[:, j]
        swapped = order[rows, p].copy()
        order[rows, p] = order[:, j]
        order[:, j] = swapped
    eye = xp.eye(m, dtype=dtype)
    return eye[order].swapaxes(-1, -2).reshape(batch + (m, m))


class LUFactorPrimitive(Primitive):
    """(LU, pivots, info) of getrf; the gradient flows from LU's strictly lower (L) and upper (U) parts."""

    @staticmethod
    def forward(ctx, a):
        lu, pivots, info = _getrf(ctx.xp, a)
        ctx.save_for_backward(lu)
        ctx.permutation = _permutation(ctx.xp, pivots, a.shape[-2], a.dtype)
        ctx.set_materialize_grads(False)
        return lu, pivots, info

    @staticmethod
    def backward(ctx, grad_lu, grad_pivots, grad_info):
        if grad_lu is None:
            return None
        lu, = ctx.saved_tensors
        m, n = lu.shape[-2], lu.shape[-1]
        k = min(m, n)
        L, U = unpack_factors(lu)
        grad_l, grad_u = grad_lu.narrow(-1, 0, k).tril(-1), grad_lu.narrow(-2, 0, k).triu()
        return matmul(_make(ctx.permutation), _lu_backward(L, U, grad_l, grad_u, m, n, k))


LUFactorPrimitive._node_cls.__name__ = LUFactorPrimitive._node_cls.__qualname__ = "LinalgLuFactorExBackward0"


class PivotPermutation(Primitive):
    """The permutation matrices P (of dtype ``dtype_name``) that LAPACK's 1-based row ``pivots`` describe: an op of
    its own, so a trace records P as computed from the pivots."""

    @staticmethod
    def forward(ctx, pivots, m, dtype_name):
        return _permutation(ctx.xp, pivots, m, numpy.dtype(dtype_name))

    @staticmethod
    def backward(ctx, grad):
        return None


def _lu_backward(L, U, grad_l, grad_u, m, n, k):
    """dA (before applying P) for A = P L U from the gradients of L (strictly lower) and U (upper)."""
    if m == n:
        inner = matmul(_mH(L), grad_l).tril(-1) + matmul(grad_u, _mH(U)).triu()
        inner = solve_triangular(_mH(U), inner, upper=False, left=False)
        return solve_triangular(_mH(L), inner, upper=True, unitriangular=True)
    if m < n:   # wide: U = [U1 U2] with U1 square
        inner = (matmul(_mH(L), grad_l) - matmul(grad_u, _mH(U))).tril(-1)
        inner = solve_triangular(_mH(U.narrow(-1, 0, k)), inner, upper=False, left=False)
        inner = cat([inner + grad_u.narrow(-1, 0, k), grad_u.narrow(-1, k, n - k)], -1)
        return solve_triangular(_mH(L), inner, upper=True, unitriangular=True)
    # tall: L = [L1; L2] with L1 square
    inner = (matmul(grad_u, _mH(U)) - matmul(_mH(L), grad_l)).triu()
    inner = solve_triangular(_mH(L.narrow(-2, 0, k)), inner, upper=True, unitriangular=True)
    inner = cat([inner + grad_l.narrow(-2, 0, k), grad_l.narrow(-2, k, m - k)], -2)
    return solve_triangular(_mH(U), inner, upper=False, left=False)


def unpack_factors(lu):
    """(L, U) from a packed LU: L (m x k) unit lower triangular, U (k x n) upper triangular, k = min(m, n)."""
    m, n = lu.shape[-2], lu.shape[-1]
    k = min(m, n)
    L = lu.narrow(-1, 0, k).tril(-1) + _make(_xp(lu).eye(m, k, dtype=lu._data.dtype))
    return L, lu.narrow(-2, 0, k).triu()


def _factor(A, pivot, name):
    if A.ndim < 2:
        raise RuntimeError(f"torch.lu_factor: Expected tensor with 2 or more dimensions. Got size: {list(A.shape)} "
                           "instead")
    if not (A.dtype.is_floating_point or A.dtype.is_complex) or _low_precision(A):
        raise NotImplementedError(f"\"lu_cpu\" not implemented for '{_name(A)}'")
    if not pivot:
        raise RuntimeError(f"{name}: LU without pivoting is not implemented on the CPU")
    return LUFactorPrimitive.apply(A)


@composite("linalg_lu_factor_ex", trace_inside=True)
def lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    """(LU, pivots, info) of A = P L U with partial pivoting; info > 0 marks an exactly singular U."""
    lu, pivots, info = _factor(A, pivot, "linalg.lu_factor_ex")
    if check_errors and bool((info._all_data > 0).any()):   # every example's, inside vmap
        raise RuntimeError("torch.linalg.lu_factor_ex: U is singular (info > 0)")
    return write_tuple(out, LUFactorEx(lu, pivots, info))


@composite("linalg_lu_factor", trace_inside=True)
def lu_factor(A, *, pivot=True, out=None):
    """(LU, pivots): L and U packed in one matrix and LAPACK's 1-based row pivots, with A = P L U."""
    lu, pivots, info = _factor(A, pivot, "linalg.lu_factor")
    bad = info._all_data.reshape(-1)   # every example's, inside vmap
    if bad.size and bool((bad > 0).any()):
        first = int(bad[bad > 0][0]) - 1
        raise RuntimeError(f"torch.linalg.lu_factor: U[{first},{first}] is zero and using it on lu_solve would result "
                           "in a division by zero. If you still want to perform the factorization, consider calling "
                           "linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")
    return write_tuple(out, LUFactor(lu, pivots))


@composite("linalg_lu", trace_inside=True)
def linalg_lu(A, *, pivot=True, out=None):
    """(P, L, U) with A = P L U: a permutation, unit lower-triangular L (m x k) and upper-triangular U (k x n)."""
    lu, pivots, _ = _factor(A, pivot, "linalg.lu")
    p, lower, upper = lu_unpack(lu, pivots)
    return write_tuple(out, PLU(p, name_node(lower, "LinalgLuBackward0"), name_node(upper, "LinalgLuBackward0")))


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    """(P, L, U) from a packed LU and its pivots; the parts not asked for come back empty."""
    if LU_pivots.dtype.is_floating_point or LU_pivots.dtype.is_complex:
        raise RuntimeError(f"torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32 dtype. "
                           f"Note: this function is intended to be used with the output produced by torch.linalg."
                           f"lu_factor, got {LU_pivots.dtype}")
    nothing = LU_data.reshape(-1).narrow(0, 0, 0)   # empty, and in the graph as in PyTorch
    L, U = unpack_factors(LU_data) if unpack_data else (nothing, nothing)
    P = (PivotPermutation.apply(LU_pivots, LU_data.shape[-2], LU_data._data.dtype.name) if unpack_pivots
         else LU_data.new_empty((0,)))
    return write_tuple(out, LUUnpack(P, L, U))


_LU_DEPRECATED = ("torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and will be "
                  "removed in a future PyTorch release.\nLU, pivots = torch.lu(A, compute_pivots)\nshould be replaced "
                  "with\nLU, pivots = torch.linalg.lu_factor(A, compute_pivots)\nand\nLU, pivots, info = torch.lu(A, "
                  "compute_pivots, get_infos=True)\nshould be replaced with\nLU, pivots, info = "
                  "torch.linalg.lu_factor_ex(A, compute_pivots)")


@tensor_method
def lu(A, pivot=True, get_infos=False, out=None):
    """The older ``torch.lu``: (LU, pivots), plus info with ``get_infos=True`` (which also skips the singularity
    check). Deprecated: warns once per process, as PyTorch."""
    warn_once("lu", _LU_DEPRECATED)
    if get_infos:
        return write_tuple(out, LUWithInfo(*lu_factor_ex(A, pivot=pivot)))
    return write_tuple(out, tuple(lu_factor(A, pivot=pivot)))


def _check_solve(LU, pivots, B, name):
    _check_floating(LU, name)
    if LU.ndim < 2 or LU.shape[-1] != LU.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are {LU.shape[-2]} by "
                           f"{LU.shape[-1]} matrices" if LU.ndim >= 2 else
                           f"{name}: The input tensor A must have at least 2 dimensions.")
    if B.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor B must have at least 2 dimensions.")
    if B.dtype is not LU.dtype:
        raise RuntimeError(f"linalg.lu_solve: Expected LU and B to have the same dtype, but found LU of type "
                           f"{_name(LU)} and B of type {_name(B)} instead")
    if pivots.dtype.is_floating_point or pivots.dtype.is_complex:
        raise RuntimeError(f"{name}: pivots should be a Tensor of scalar type torch.int32")
    if tuple(pivots.shape) != tuple(LU.shape[:-1]):
        raise RuntimeError(f"{name}: Incompatible shapes of A and pivots: {list(LU.shape)} and {list(pivots.shape)}")


def linalg_lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    """X with A X = B for A = P L U given as (LU, pivots); ``left=False`` solves X A = B, ``adjoint=True`` uses A^H."""
    _check_solve(LU, pivots, B, "linalg.lu_solve")
    if not left:   # X A = B  <=>  A^H X^H = B^H
        return write_out(out, _mH(linalg_lu_solve(LU, pivots, _mH(B), adjoint=not adjoint)), "linalg.lu_solve")
    if (B.shape[-2]) != LU.shape[-1]:
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation AX = B "
                           f"({LU.shape[-2]}x{LU.shape[-1]} and {B.shape[-2]}x{B.shape[-1]})")
    _batch_shape(LU.shape[:-2], B.shape[:-2])
    P = PivotPermutation.apply(pivots, LU.shape[-1], LU._data.dtype.name)
    if adjoint:   # U^H L^H P^T X = B
        y = solve_triangular(_mH(LU), B, upper=False)
        return write_out(out, matmul(P, solve_triangular(_mH(LU), y, upper=True, unitriangular=True)),
                         "linalg.lu_solve")
    y = solve_triangular(LU, matmul(P.mT, B), upper=False, unitriangular=True)
    return write_out(out, solve_triangular(LU, y, upper=True), "linalg.lu_solve")


@tensor_method
@composite("lu_solve", trace_inside=True)   # named for autocast's float32 list
def lu_solve(b, LU_data, LU_pivots, *, out=None):
    """The older ``torch.lu_solve(b, LU, pivots)``: X with A X = b (see ``linalg.lu_solve``)."""
    return write_out(out, linalg_lu_solve(LU_data, LU_pivots, b), "lu_solve")


@tensor_method
@composite("triangular_solve", trace_inside=True)   # named for autocast's float32 list
def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    """The older ``torch.triangular_solve(b, A)``: (X with A X = b, or A^T X = b with ``transpose=True``, and a
    copy of A)."""
    if b.ndim < 2 or A.ndim < 2:
        raise RuntimeError(f"torch.triangular_solve: Expected b to have at least 2 dimensions, but it has {b.ndim} "
                           "dimensions instead" if b.ndim < 2 else
                           f"torch.triangular_solve: Expected A to have at least 2 dimensions, but it has {A.ndim} "
                           "dimensions instead")
    if b.dtype is not A.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type {_name(b)} and A of type "
                           f"{_name(A)} instead.")
    coefficient = A.mT if transpose else A
    solution = solve_triangular(coefficient, b, upper=upper != transpose, unitriangular=unitriangular)
    batch = _batch_shape(A.shape[:-2], b.shape[:-2])
    return write_tuple(out, TriangularSolve(solution, A.expand(batch + tuple(A.shape[-2:])).clone()))
