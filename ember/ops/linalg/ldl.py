"""LDL factorization of symmetric or Hermitian indefinite matrices (Bunch-Kaufman, LAPACK sytrf/hetrf) and its solve:
linalg.ldl_factor / ldl_factor_ex / ldl_solve."""
import math

import numpy

from ... import _backend, _dtype, return_types
from ..._tensor import Tensor
from ...autograd.function import Primitive, composite
from .._kernel_dtypes import require_dtype
from .._util import write_out
from ._common import _batch_shape, _CPP_NAMES, _name

__all__ = []   # torch.linalg names only: ember.linalg re-exports them

LDLFactorResult = return_types.structseq("linalg_ldl_factor", ["LD", "pivots"])
LDLFactorExResult = return_types.structseq("linalg_ldl_factor_ex", ["LD", "pivots", "info"])

_ALPHA = (1 + math.sqrt(17)) / 8   # Bunch-Kaufman's pivot threshold, LAPACK's ALPHA


def _not_implemented_name(node):
    return "torch::autograd::NotImplemented"


def _no_derivative(primitive):
    """Names the nodes of a primitive PyTorch defines no derivative for as PyTorch does (``NotImplemented``)."""
    primitive._node_cls.__name__ = primitive._node_cls.__qualname__ = "NotImplemented"
    primitive._node_cls.name = _not_implemented_name


def _sytrf(a, hermitian):
    """LAPACK sytf2/hetf2 with uplo='L' on a host batch (..., n, n), reading only the lower triangle: the compact
    L and D (lower triangle, zeros above), 1-based int32 pivots (negative, twice, for a 2x2 block) and info (the
    first exactly zero column of D, 1-based; 0 when none).

    The matrices advance in lockstep, one column a step; a matrix whose current column is the second of a 2x2
    block skips the step. The trailing matrix is kept whole (both triangles), so LAPACK's interchanges are a
    symmetric permutation of its rows and columns; after each update its upper triangle is copied again from the
    lower one, which is what LAPACK computes."""
    batch, n = a.shape[:-2], a.shape[-1]
    herm = hermitian and a.dtype.kind == "c"
    lower = numpy.tril(a.reshape((math.prod(batch), n, n)))
    mirrored = numpy.tril(lower, -1).swapaxes(-1, -2)
    s = lower + (mirrored.conj() if herm else mirrored)
    count = s.shape[0]
    if herm:
        index = numpy.arange(n)
        s[:, index, index] = s[:, index, index].real
    pivots = numpy.zeros((count, n), dtype=numpy.int32)
    info = numpy.zeros(count, dtype=numpy.int32)
    skip = numpy.zeros(count, dtype=bool)

    def size(x):   # LAPACK's CABS1 for complex (|re| + |im|), |x| for real
        return numpy.abs(x.real) + numpy.abs(x.imag) if x.dtype.kind == "c" else numpy.abs(x)

    def diagonal_size(x):
        return numpy.abs(x.real) if herm else size(x)

    def mirror(block):   # the upper triangle from the lower one (real diagonal when Hermitian)
        low = numpy.tril(block)
        upper = numpy.tril(block, -1).swapaxes(-1, -2)
        block = low + (upper.conj() if herm else upper)
        if herm:
            diagonal = numpy.arange(block.shape[-1])
            block[:, diagonal, diagonal] = block[:, diagonal, diagonal].real
        return block

    with numpy.errstate(all="ignore"):
        for k in range(n):
            active = numpy.flatnonzero(~skip)
            skip[:] = False
            if not active.size:
                continue
            t = s[active, k:, k:]
            r, rows = n - k, numpy.arange(active.size)
            absakk = diagonal_size(t[:, 0, 0])
            if r > 1:
                column = size(t[:, 1:, 0])
                imax = 1 + numpy.argmax(column, axis=1)
                colmax = column[rows, imax - 1]
                row = size(t[rows, imax, :])
                row[rows, imax] = 0
                rowmax = row.max(axis=1)
                diagonal_imax = diagonal_size(t[rows, imax, imax])
            else:
                imax = numpy.zeros(active.size, dtype=numpy.int64)
                colmax = rowmax = diagonal_imax = numpy.zeros(active.size, dtype=absakk.dtype)
            zero = (numpy.maximum(absakk, colmax) == 0) | numpy.isnan(absakk)
            stay = zero | (absakk >= _ALPHA * colmax) | (absakk >= _ALPHA * colmax * (colmax / rowmax))
            double = ~stay & ~(diagonal_imax >= _ALPHA * rowmax)
            kp = numpy.where(stay, 0, imax)
            kk = double.astype(numpy.int64)
            swap = numpy.flatnonzero(kp != kk)
            if swap.size:   # rows and columns kk <-> kp of the trailing matrix
                i, j = kk[swap], kp[swap]
                first = t[swap, i, :].copy()
                t[swap, i, :] = t[swap, j, :]
                t[swap, j, :] = first
                first = t[swap, :, i].copy()
                t[swap, :, i] = t[swap, :, j]
                t[swap, :, j] = first
            single = numpy.flatnonzero(~zero & ~double)
            if single.size and r > 1:
                u = t[single]
                d = u[:, 0, 0].real if herm else u[:, 0, 0]
                x = u[:, 1:, 0]
                r1 = (1 / d)[:, None]
                u[:, 1:, 1:] = mirror(u[:, 1:, 1:] + x[:, :, None] * (-r1 * (x.conj() if herm else x))[:, None, :])
                u[:, 1:, 0] = x * r1
                t[single] = u
            pair = numpy.flatnonzero(double)
            if pair.size and r > 2:
                u = t[pair]
                c0, c1 = u[:, 2:, 0], u[:, 2:, 1]
                if herm:
                    d = numpy.abs(u[:, 1, 0])
                    d11, d22 = u[:, 1, 1].real / d, u[:, 0, 0].real / d
                    tt = 1 / (d11 * d22 - 1)
                    d21 = u[:, 1, 0] / d
                    d = (tt / d)[:, None]
                    wk = d * (d11[:, None] * c0 - d21[:, None] * c1)
                    wkp1 = d * (d22[:, None] * c1 - d21.conj()[:, None] * c0)
                    update = c0[:, :, None] * wk.conj()[:, None, :] + c1[:, :, None] * wkp1.conj()[:, None, :]
                else:
                    d21 = u[:, 1, 0]
                    d11, d22 = u[:, 1, 1] / d21, u[:, 0, 0] / d21
                    tt = 1 / (d11 * d22 - 1)
                    d21 = (tt / d21)[:, None]
                    wk = d21 * (d11[:, None] * c0 - c1)
                    wkp1 = d21 * (d22[:, None] * c1 - c0)
                    update = c0[:, :, None] * wk[:, None, :] + c1[:, :, None] * wkp1[:, None, :]
                u[:, 2:, 2:] = mirror(u[:, 2:, 2:] - update)
                u[:, 2:, 0], u[:, 2:, 1] = wk, wkp1
                t[pair] = u
            s[active, k:, k:] = t
            info[active] = numpy.where((info[active] == 0) & zero, k + 1, info[active])
            chosen = (kp + k + 1).astype(numpy.int32)
            pivots[active, k] = numpy.where(double, -chosen, chosen)
            pairs = active[double]
            if k + 1 < n:
                pivots[pairs, k + 1] = -chosen[double]
            skip[pairs] = True
    return numpy.tril(s).reshape(a.shape), pivots.reshape(batch + (n,)), info.reshape(batch)


class LDLFactor(Primitive):
    """(LD, pivots, info) of sytrf/hetrf. PyTorch defines no derivative: backward raises its error."""

    @staticmethod
    def forward(ctx, a, hermitian):
        host = _backend.move(a, _backend.CPU)
        ld, pivots, info = _sytrf(numpy.asarray(host), hermitian)
        xp = ctx.xp
        return xp.asarray(ld), xp.asarray(pivots), xp.asarray(info)

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("derivative for aten::linalg_ldl_factor_ex is not implemented")


_no_derivative(LDLFactor)


def _check_out_dtypes(out, expected):
    """PyTorch's structured-kernel check of ``out=``: each tensor must have the result's dtype exactly."""
    for target, dtype in zip(out, expected):
        if target.dtype is not dtype:
            raise RuntimeError(f"Expected out tensor to have dtype {_CPP_NAMES[dtype.name]}, but got "
                               f"{_CPP_NAMES[target.dtype.name]} instead")


def _write_exact(out, results):
    """Writes ``results`` into ``out`` (no gradient check: PyTorch's results here have none)."""
    _check_out_dtypes(out, [r.dtype for r in results])
    for target, value in zip(out, results):
        write_out(target, value.detach(), "op")
    return type(results)(*out)


def _check_square_matrices(A, label):
    """PyTorch's checks that ``A`` is a batch of square floating or complex matrices, naming the op ``label``."""
    if A.ndim < 2:
        raise RuntimeError(f"{label}: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{label}: A must be batches of square matrices, but they are {A.shape[-2]} by "
                           f"{A.shape[-1]} matrices")
    if not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise RuntimeError(f"{label}: Expected a floating point or complex tensor as input. Got {_name(A)}")


def _factor(A, hermitian, name):
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(A).__name__}")
    _check_square_matrices(A, "torch.linalg.ldl_factor_ex")
    if A.numel():
        require_dtype("ldl_factor_kernel_cpu", A, "fc")
    return LDLFactor.apply(A, bool(hermitian))


def _raise_unknown(info, name):
    """PyTorch 2.13's error for a zero pivot in ldl_factor (an internal assert naming the first failing code)."""
    codes = numpy.asarray(_backend.move(info._data, _backend.CPU)).reshape(-1)
    failed = codes[codes != 0]
    if failed.size:
        raise RuntimeError("false INTERNAL ASSERT FAILED at \"/__w/pytorch/pytorch/aten/src/ATen/native/"
                           "BatchLinearAlgebra.cpp\":1642, please report a bug to PyTorch. "
                           f"{name}: Unknown error code: {int(failed[0])}.")


@composite("linalg_ldl_factor_ex", trace_inside=True)
def ldl_factor_ex(input, *, hermitian=False, check_errors=False, out=None):
    """(LD, pivots, info) of the Bunch-Kaufman factorization A = L D L^T (L D L^H when ``hermitian``) of each
    symmetric or Hermitian matrix, reading its lower triangle: LAPACK sytrf's compact LD, its 1-based int32 pivots
    (negative for the two rows of a 2x2 block of D) and info (the first zero diagonal block of D, 1-based; 0 when
    none). ``check_errors=True`` raises where info is not 0. Not differentiable (as in PyTorch)."""
    result = LDLFactorExResult(*_factor(input, hermitian, "linalg_ldl_factor_ex"))
    if check_errors:
        _raise_unknown(result.info, "torch.linalg.ldl_factor_ex")
    return result if out is None else _write_exact(out, result)


@composite("linalg_ldl_factor", trace_inside=True)
def ldl_factor(input, *, hermitian=False, out=None):
    """(LD, pivots) of ``ldl_factor_ex``, raising where a diagonal block of D is exactly zero."""
    LD, pivots, info = _factor(input, hermitian, "linalg_ldl_factor")
    _raise_unknown(info, "torch.linalg.ldl_factor")
    result = LDLFactorResult(LD, pivots)
    return result if out is None else _write_exact(out, result)


def _sytrs(xp, ld, pivots, b, hermitian):
    """LAPACK sytrs/hetrs (uplo='L') on arrays broadcast to one batch: X with A X = B for A = P L D L^T P^T given
    as (LD, pivots). The interchanges are moved onto L's earlier columns first (P^T A P = L' D L'^T), then two
    unit-triangular solves and D's 1x1 and 2x2 blocks, all matrices at once."""
    n = ld.shape[-1]
    count = ld.shape[0]
    herm = hermitian and ld.dtype.kind == "c"
    p = pivots.astype(numpy.int64)
    rows = xp.arange(count)
    block_start = xp.zeros((count, n), dtype=bool)   # k starts a 2x2 block of D
    second = xp.zeros(count, dtype=bool)
    exchange_kk, exchange_kp = [], []
    for k in range(n):
        two = (p[:, k] < 0) & ~second
        block_start[:, k] = two
        kk = xp.where(two, min(k + 1, n - 1), k)
        kp = xp.where(second, k, xp.abs(p[:, k]) - 1)
        exchange_kk.append(kk)
        exchange_kp.append(kp)
        second = two
    lower = xp.tril(ld, -1)
    first_of_pair = block_start[:, :-1]
    off = xp.zeros((count, n), dtype=ld.dtype)
    if n > 1:
        sub = xp.diagonal(ld, -1, -2, -1)
        off[:, :-1] = xp.where(first_of_pair, sub, 0)
        index = xp.arange(n - 1)
        lower[:, index + 1, index] = xp.where(first_of_pair, 0, sub)
    order = xp.broadcast_to(xp.arange(n), (count, n)).copy()
    for k in range(n):
        kk, kp = exchange_kk[k], exchange_kp[k]
        if k:
            saved = lower[rows, kk, :k].copy()
            lower[rows, kk, :k] = lower[rows, kp, :k]
            lower[rows, kp, :k] = saved
        saved = order[rows, kk].copy()
        order[rows, kk] = order[rows, kp]
        order[rows, kp] = saved
    unit = lower + xp.eye(n, dtype=ld.dtype)
    y = xp.take_along_axis(b, order[:, :, None], axis=1)
    y = _forward_substitute(xp, unit, y)
    y = _solve_d(xp, xp.diagonal(ld, 0, -2, -1), off, block_start, y, herm)
    adjoint = unit.swapaxes(-1, -2)
    y = _backward_substitute(xp, adjoint.conj() if herm else adjoint, y)
    x = xp.empty_like(y)
    x[rows[:, None], order] = y
    return x


def _forward_substitute(xp, unit, b):
    """X with L X = B for unit lower-triangular L, row by row (BLAS trsm's order)."""
    x = b.copy()
    for i in range(1, unit.shape[-1]):
        x[:, i] -= (unit[:, i, None, :i] @ x[:, :i])[:, 0]
    return x


def _backward_substitute(xp, unit, b):
    """X with U X = B for unit upper-triangular U, row by row from the bottom."""
    x = b.copy()
    n = unit.shape[-1]
    for i in range(n - 2, -1, -1):
        x[:, i] -= (unit[:, i, None, i + 1:] @ x[:, i + 1:])[:, 0]
    return x


def _solve_d(xp, diagonal, off, block_start, y, herm):
    """D^-1 Y for block-diagonal D: 1x1 blocks divide; a 2x2 block [[a, b'], [b, c]] (b' = b, or conj(b) when
    Hermitian; b = ``off`` at its first row) is solved with LAPACK sytrs's scaled formulas."""
    if herm:
        diagonal = diagonal.real.astype(diagonal.dtype)
    n = diagonal.shape[-1]
    second = xp.zeros_like(block_start)
    second[:, 1:] = block_start[:, :-1]

    def shift(v, step):   # v[:, i + step] at i (zeros past the ends)
        result = xp.zeros_like(v)
        if step > 0:
            result[:, :n - step] = v[:, step:]
        else:
            result[:, -step:] = v[:, :n + step]
        return result

    def pair(a, c, b, y1, y2):
        b_first = b.conj() if herm else b
        akm1, ak = a / b_first, c / b
        denominator = akm1 * ak - 1
        bkm1, bk = y1 / b_first[:, :, None], y2 / b[:, :, None]
        return ((ak[:, :, None] * bkm1 - bk) / denominator[:, :, None],
                (akm1[:, :, None] * bk - bkm1) / denominator[:, :, None])

    with numpy.errstate(all="ignore"):
        single = y / diagonal[:, :, None]
        first_rows, _ = pair(diagonal, shift(diagonal, 1), off, y, shift(y, 1))
        _, second_rows = pair(shift(diagonal, -1), diagonal, shift(off, -1), shift(y, -1), y)
    return xp.where(block_start[:, :, None], first_rows, xp.where(second[:, :, None], second_rows, single))


class LDLSolve(Primitive):
    """X of sytrs/hetrs. PyTorch defines no derivative: backward raises its error."""

    @staticmethod
    def forward(ctx, ld, pivots, b, hermitian, batch):
        xp = ctx.xp
        n, columns, count = ld.shape[-1], b.shape[-1], math.prod(batch)
        if not count or not n or not columns:
            return xp.zeros(batch + (n, columns), dtype=b.dtype)
        ld = xp.broadcast_to(ld, batch + ld.shape[-2:]).reshape((count, n, n))
        pivots = xp.broadcast_to(pivots, batch + (n,)).reshape((count, n))
        b = xp.broadcast_to(b, batch + b.shape[-2:]).reshape((count, n, columns))
        return _sytrs(xp, ld, pivots, b, hermitian).astype(b.dtype, copy=False).reshape(batch + (n, columns))

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("derivative for aten::linalg_ldl_solve is not implemented")


_no_derivative(LDLSolve)


@composite("linalg_ldl_solve", trace_inside=True)
def ldl_solve(LD, pivots, B, *, hermitian=False, out=None):
    """X with A X = B for A factored by ``ldl_factor`` (LD, pivots); ``hermitian`` must be the factorization's.
    Not differentiable (as in PyTorch)."""
    for argument, position, value in (("LD", 1, LD), ("pivots", 2, pivots), ("B", 3, B)):
        if not isinstance(value, Tensor):
            raise TypeError(f"linalg_ldl_solve(): argument '{argument}' (position {position}) must be Tensor, not "
                            f"{type(value).__name__}")
    label = "torch.linalg.ldl_solve"
    _check_square_matrices(LD, label)
    if B.dtype is not LD.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type {_name(B)} and A of type "
                           f"{_name(LD)} instead.")
    if B.ndim < 2:
        raise IndexError("Dimension specified as -2 but tensor has no dimensions" if B.ndim == 0 else
                         "Dimension out of range (expected to be in range of [-1, 0], but got -2)")
    if B.shape[-2] != LD.shape[-1]:
        raise RuntimeError(f"Incompatible matrix sizes for {label}: each A matrix is {LD.shape[-1]} by "
                           f"{LD.shape[-1]} but each b matrix is {B.shape[-2]} by {B.shape[-1]}")
    if tuple(pivots.shape) != tuple(LD.shape[:-1]):
        raise RuntimeError(f"{label}: Expected LD.shape[:-1] and pivots.shape to be the same, but got pivots with "
                           f"shape {list(pivots.shape)} instead")
    if pivots.dtype.is_floating_point or pivots.dtype.is_complex or pivots.dtype is _dtype.bool_:
        raise RuntimeError(f"{label}: Expected pivots to be integers. Got {_name(pivots)}")
    batch = _batch_shape(tuple(B.shape[:-2]), tuple(LD.shape[:-2]))
    if LD.numel() and pivots.numel():
        require_dtype("ldl_solve_kernel_cpu", LD, "fc")
    result = LDLSolve.apply(LD, pivots, B, bool(hermitian), tuple(batch))
    if out is None:
        return result
    _check_out_dtypes((out,), (result.dtype,))
    return write_out(out, result.detach(), "linalg_ldl_solve")
