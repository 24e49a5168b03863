"""Inverses, linear and triangular solves, and matrix functions (matrix_power, matrix_exp)."""

import numpy

from ... import _compat, return_types
from ..._tensor import _make
from ...autograd.function import Primitive, composite
from .._util import name_node, tensor_method, write_out
from ._common import (
    LinAlgError,
    _batch_shape,
    _check_matrix,
    _eye_like,
    _FactorizationFailed,
    _lu_info,
    _mH,
    _name,
    _raise_singular,
    _solve_array,
    _xp,
)
from .products import matmul

__all__ = ["InvEx", "Inv", "inv", "inv_ex", "inverse", "Solve", "solve", "SolveTriangular", "solve_triangular",
           "matrix_power", "MatrixExp", "matrix_exp"]


InvEx = return_types.structseq("linalg_inv_ex", ["inverse", "info"])


class Inv(Primitive):
    @staticmethod
    def forward(ctx, a):
        result = ctx.xp.linalg.inv(a)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        inverse, = ctx.saved_tensors
        inverse_h = _mH(inverse)
        return -matmul(matmul(inverse_h, grad), inverse_h)


@composite("linalg_inv", trace_inside=True)
def inv(A, *, out=None):
    """The inverse of each square matrix; LinAlgError for singular ones."""
    _check_matrix(A, "linalg.inv", low_precision="linalg.inv")
    try:
        return write_out(out, name_node(Inv.apply(A), "LinalgInvExBackward0"), "linalg.inv")
    except numpy.linalg.LinAlgError:
        _raise_singular(A, "linalg.inv", "The diagonal element {} is zero, the inversion could not be completed "
                                         "because the input matrix is singular.")


@composite("linalg_inv_ex", trace_inside=True)
def inv_ex(A, *, check_errors=False, out=None):
    """The inverse and a LAPACK-style ``info`` per matrix (nonzero where singular) instead of raising."""
    _check_matrix(A, "linalg.inv_ex", low_precision="linalg.inv")
    info = _lu_info(A._data).reshape(A.shape[:-2])
    if check_errors and info.any():
        inv(A)
    if not info.any():
        inverse = name_node(Inv.apply(A), "LinalgInvExBackward0")
    else:
        safe = _xp(A).where(_xp(A).asarray(info != 0)[..., None, None], _xp(A).eye(A.shape[-1], dtype=A._data.dtype),
                            A._data)
        inverse = _make(_xp(A).linalg.inv(safe))
    return InvEx(inverse, _make(_xp(A).asarray(info)))


@tensor_method
@composite("inverse", trace_inside=True)
def inverse(input, *, out=None):
    """The inverse of each square matrix (alias of ``linalg.inv``)."""
    return inv(input, out=out)


class Solve(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        try:
            result = _compat.solve(ctx.xp, a, b)
        except numpy.linalg.LinAlgError:
            raise _FactorizationFailed() from None
        ctx.save_for_backward(a, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        a, result = ctx.saved_tensors
        grad_b = _solve_matrix(_mH(a), grad)
        grad_a = -matmul(grad_b, _mH(result)) if ctx.needs_input_grad[0] else None
        return grad_a, grad_b


def _solve_matrix(A, B):
    return Solve.apply(A, B)


@composite("linalg_solve", trace_inside=True)
def solve(A, B, *, left=True, out=None):
    """X with A X = B (or X A = B when ``left=False``); B may be a (batch of) vector(s)."""
    _check_matrix(A, "linalg.solve", kernel="lu_cpu")
    if A.dtype is not B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type {_name(A)} "
                           f"and B of type {_name(B)} instead")
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    matrix_b = B.unsqueeze(-1) if vector else B
    if not left:
        A, matrix_b = A.mT, matrix_b.mT
    if matrix_b.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{A.shape[-1]} and "
                           f"{matrix_b.shape[-2]}x{matrix_b.shape[-1]})")
    _batch_shape(A.shape[:-2], matrix_b.shape[:-2])
    try:
        result = Solve.apply(A, matrix_b)
    except _FactorizationFailed:
        raise LinAlgError("torch.linalg.solve: The solver failed because the input matrix is singular.") from None
    if not left:
        result = result.mT
    return write_out(out, name_node(result.squeeze(-1) if vector else result, "LinalgSolveExBackward0"), "linalg.solve")


class SolveTriangular(Primitive):
    @staticmethod
    def forward(ctx, a, b, upper, left, unitriangular):
        xp = ctx.xp
        ctx.args = (upper, left, unitriangular)
        triangle = xp.triu(a) if upper else xp.tril(a)
        if unitriangular:
            triangle = triangle - xp.eye(a.shape[-1], dtype=a.dtype) * (xp.diagonal(a, 0, -2, -1)[..., None] - 1)
        if left:
            result = _solve_array(xp, triangle, b, upper)
        else:
            result = _solve_array(xp, triangle.swapaxes(-1, -2), b.swapaxes(-1, -2), not upper).swapaxes(-1, -2)
        ctx.save_for_backward(a if ctx.needs_input_grad[0] or ctx.needs_input_grad[1] else None, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        a, result = ctx.saved_tensors
        upper, left, unitriangular = ctx.args
        grad_b = solve_triangular(_mH(a), grad, upper=not upper, left=left, unitriangular=unitriangular)
        grad_a = None
        if ctx.needs_input_grad[0]:
            grad_a = -(matmul(grad_b, _mH(result)) if left else matmul(_mH(result), grad_b))
            grad_a = grad_a.triu(int(unitriangular)) if upper else grad_a.tril(-int(unitriangular))
        return grad_a, grad_b if ctx.needs_input_grad[1] else None


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """X with A X = B (or X A = B when ``left=False``) for triangular A, reading only its ``upper`` or lower
    triangle (and taking ones on the diagonal when ``unitriangular``)."""
    for label, t in (("A", A), ("B", B)):
        if t.ndim < 2:
            raise RuntimeError(f"linalg.solve_triangular: The input tensor {label} must have at least 2 dimensions.")
    if not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise NotImplementedError(f"\"triangular_solve_cpu\" not implemented for '{_name(A)}'")
    if B.dtype is not A.dtype:   # PyTorch solves in A's dtype
        B = B.to(A.dtype)
    _check_matrix(A, "linalg.solve_triangular", kernel="triangular_solve_cpu")
    if (B.shape[-2] if left else B.shape[-1]) != A.shape[-1]:
        shapes = (f"{A.shape[-2]}x{A.shape[-1]} and {B.shape[-2]}x{B.shape[-1]}")
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({shapes})")
    _batch_shape(A.shape[:-2], B.shape[:-2])
    return write_out(out, name_node(SolveTriangular.apply(A, B, upper, left, unitriangular),
                                    "LinalgSolveTriangularBackward0"), "linalg.solve_triangular")


@tensor_method
@composite("linalg_matrix_power", trace_inside=True)
def matrix_power(input, n, *, out=None):
    """The integer power ``n`` of each square matrix (through the inverse for negative ``n``)."""
    if input.ndim < 2 or input.shape[-1] != input.shape[-2]:
        _check_matrix(input, "linalg.matrix_power")
    if n == 0:
        identity = _eye_like(input).expand(tuple(input.shape))
        return write_out(out, identity + input * 0 if input.requires_grad else identity.clone(), "linalg.matrix_power")
    if n < 0:
        input, n = inv(input), -n
    result, square = None, input
    while n:
        if n & 1:
            result = square if result is None else matmul(result, square)
        n >>= 1
        if n:
            square = matmul(square, square)
    return write_out(out, result.clone() if result is input else result, "linalg.matrix_power")


# Padé (13, 13) coefficients and the 1-norm bound under which it is accurate to double precision (Higham 2005).
_PADE13 = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800., 129060195264000.,
           10559470521600., 670442572800., 33522128640., 1323241920., 40840800., 960960., 16380., 182., 1.)


_THETA13 = 5.371920351148152


class MatrixExp(Primitive):
    @staticmethod
    def forward(ctx, a):
        xp = ctx.xp
        ctx.save_for_backward(a)
        if a.size == 0:
            return a.copy()
        b = _PADE13
        norm = xp.abs(a).sum(-2).max(-1)
        tiny = numpy.finfo(norm.dtype).tiny   # 1e-300 would round to 0 in float32 and log2 would warn
        squarings = xp.maximum(0, xp.ceil(xp.log2(xp.maximum(norm, tiny) / _THETA13))).astype(numpy.int64)
        scaled = a / (2.0 ** squarings)[..., None, None].astype(a.real.dtype)
        identity = xp.eye(a.shape[-1], dtype=a.dtype)
        a2 = scaled @ scaled
        a4 = a2 @ a2
        a6 = a4 @ a2
        u = scaled @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * identity)
        v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * identity
        result = xp.linalg.solve(v - u, v + u)
        for step in range(int(_compat.amax(xp, squarings, initial=0))):
            result = xp.where((step < squarings)[..., None, None], result @ result, result)
        return result.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        # The adjoint of the derivative at A is the top-right block of exp([[A^H, G], [0, A^H]]) (Mathias 1996).
        a, = ctx.saved_tensors
        from ..rearrange import cat
        a_h = _mH(a).expand(tuple(grad.shape))
        block = cat([cat([a_h, grad], -1), cat([a_h * 0, a_h], -1)], -2)
        n = a.shape[-1]
        return MatrixExp.apply(block).narrow(-2, 0, n).narrow(-1, n, n)


@tensor_method
def matrix_exp(input):
    """The matrix exponential of each square matrix (scaling and squaring with a Padé approximant)."""
    _check_matrix(input, "linalg.matrix_exp")
    return name_node(MatrixExp.apply(input), "LinalgMatrixExpBackward0")
