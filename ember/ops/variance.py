"""Variance and standard deviation over dims (``var``, ``std``, ``var_mean``, ``std_mean``) with PyTorch's
``correction``/``unbiased`` arguments: squared deviations in one pass, half-precision inputs summed in float32,
float32 ones in float64 (PyTorch's bits: its Welford kernel accumulates in double and rounds once)."""
import math

import numpy

from .._warnings import warn
from .. import _dtype
from .._backend import xp_of
from ..autograd.function import Primitive
from ._util import argument_error, name_node, quiet, tensor_method, write_out
from ._summation import sum_array
from .reduction import _constant, _count, _reduction_dims, _unsqueeze_to, mean
from .tuple_out import write_tuple

__all__ = ["std", "var", "std_mean", "var_mean"]


def _correction(dim, unbiased, correction):
    """Resolves the legacy ``unbiased`` flag (also accepted in place of ``dim``) and ``correction``."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if unbiased is not None and unbiased is not True and unbiased is not False:
        argument_error()   # PyTorch's parser refuses it (std(0, 'a'))
        raise TypeError(f"unbiased must be a bool, not {type(unbiased).__name__}")
    if unbiased is not None and correction is not None:
        raise TypeError("var() received an invalid combination of arguments: unbiased and correction can't both be "
                        "given")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return dim, correction


def _mean_scale(input):
    """A power of two that keeps a sum of ``input``'s elements from overflowing (1 for ordinary magnitudes): what
    PyTorch's Welford ``var_mean``/``std_mean`` give, e.g. mean 1e308 and variance 0 for [1e308, 1e308]."""
    data = input._all_data   # every example's, inside vmap (one scale for all: powers of two scale exactly)
    if data.size == 0:
        return 1.0
    with numpy.errstate(invalid="ignore"):
        largest = float(xp_of(data).where(xp_of(data).isfinite(data), abs(data), 0).max())
    return 2.0 ** -math.frexp(largest)[1] if largest > 2.0 ** 1000 else 1.0


def _variance(name, input, dim, unbiased, keepdim, correction, scale=1.0, root=False, stacklevel=3):
    """The variance over ``dim`` (a float32 or half-precision input's standard deviation directly when ``root``),
    and the reduced dims."""
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError("std and var only support floating point and complex dtypes")
    dim, correction = _correction(dim, unbiased, correction)
    dims = _reduction_dims(input, dim)
    count = _count(input, dims)
    if count - correction <= 0:
        warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction "
             "factor (input numel divided by output numel).", UserWarning, stacklevel=stacklevel)
    if input.dtype in (_dtype.float16, _dtype.bfloat16):
        return HalfVariance.apply(input, dims, keepdim, count - correction, root), dims
    if input.dtype is _dtype.float32:
        return SquaredDeviations.apply(input, dims, keepdim, 1.0, count - correction, root), dims
    if input.dtype.is_complex:   # PyTorch's: the real part's variance plus the imaginary part's
        squares = (SquaredDeviations.apply(input.real, dims, keepdim, scale)
                   + SquaredDeviations.apply(input.imag, dims, keepdim, scale))
    else:
        squares = SquaredDeviations.apply(input, dims, keepdim, scale)
    if count - correction > 0:
        return squares / (count - correction), dims
    return squares / 0.0, dims   # PyTorch divides by max(0, N - correction): inf, or NaN for 0 / 0


class SquaredDeviations(Primitive):
    """Sum over ``dims`` of (x - mean)**2, with PyTorch's gradient ``2 (x - mean)``: the mean's own term, zero in
    exact arithmetic, is left out, so huge inputs whose mean overflows give torch's infinities, not inf - inf.
    Given ``dof`` (float32 inputs), the variance ``squares / dof`` itself (with ``root``, its square root), computed
    in float64 and rounded once as PyTorch's CPU kernels do (Welford in double), with PyTorch's var_backward and
    std_backward."""

    @staticmethod
    @quiet
    def forward(ctx, a, dims, keepdim, scale=1.0, dof=None, root=False):
        ctx.dims, ctx.keepdim, ctx.dof, ctx.root = dims, keepdim, dof, root
        xp, count = ctx.xp, math.prod(a.shape[d] for d in dims)
        if dof is not None:
            wide = a.astype(xp.float64)
            centered = wide - wide.sum(axis=dims, keepdims=True) / count   # empty: 0/0, no warning
            variance = (centered * centered).sum(axis=dims, keepdims=keepdim) / (dof if dof > 0 else 0.0)
            result = xp.asarray(xp.sqrt(variance) if root else variance).astype(a.dtype)
            ctx.save_for_backward(a, result if root else None)
            return result
        ctx.save_for_backward(a)
        mean = sum_array(a if scale == 1.0 else a * scale, dims, True) / count / scale   # empty: 0/0, no warning
        centered = a - mean
        # The corrected two-pass sum (Chan, Golub, LeVeque): the deviations' own sum takes out what rounding the
        # mean put in; float32 sums cascade where NumPy would add rows one after another (as PyTorch's stay
        # within a few ulps: a variance over a long non-last axis was 1e5x off for data near 1e6).
        residual = sum_array(centered, dims, keepdim)
        correction = residual * residual / count
        squares = sum_array(centered * centered, dims, keepdim)
        squares = xp.where(xp.isfinite(correction), squares - correction, squares)   # huge inputs: torch's inf
        return xp.asarray(xp.maximum(squares, 0) if count else squares, dtype=a.dtype)

    @staticmethod
    def backward(ctx, grad):
        if ctx.dof is None:
            a, = ctx.saved_tensors
            centered = a - mean(a, ctx.dims, keepdim=True)
            return 2 * _unsqueeze_to(grad, a.shape, ctx.dims, ctx.keepdim) * centered
        a, result = ctx.saved_tensors
        if ctx.root:
            grad = (grad / (result * 2)).masked_fill(result == 0, 0)
        grad = _unsqueeze_to(grad, a.shape, ctx.dims, ctx.keepdim)
        return (2.0 / ctx.dof if ctx.dof > 0 else math.inf) * grad * (a - mean(a, ctx.dims, keepdim=True))


class HalfVariance(Primitive):
    """The variance (or with ``root``, the standard deviation) of a float16/bfloat16 input as PyTorch's CPU kernels:
    accumulated in float32 and rounded once; the gradient ``(2 / dof) * grad * (x - mean)`` (after std's
    ``grad / (2 std)``) in the input's precision, as PyTorch's var_backward and std_backward."""

    @staticmethod
    @quiet
    def forward(ctx, a, dims, keepdim, dof, root=False):
        ctx.dims, ctx.keepdim, ctx.dof, ctx.root = dims, keepdim, dof, root
        wide = a.astype(numpy.float32)
        count = math.prod(a.shape[d] for d in dims)
        centered = wide - wide.sum(axis=dims, keepdims=True) / numpy.float32(count)
        squares = ctx.xp.asarray((centered * centered).sum(axis=dims, keepdims=keepdim))
        variance = squares / numpy.float32(dof if dof > 0 else 0)
        result = (ctx.xp.sqrt(variance) if root else variance).astype(a.dtype)
        ctx.save_for_backward(a, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        a, result = ctx.saved_tensors
        if ctx.root:
            grad = (grad / (result * 2)).masked_fill(result == 0, 0)
        grad = _unsqueeze_to(grad, a.shape, ctx.dims, ctx.keepdim)
        scaled = (2.0 / ctx.dof) * grad if ctx.dof > 0 else float("inf")
        return scaled * (a - mean(a, ctx.dims, keepdim=True)), None, None, None, None


class SqrtOfVariance(Primitive):
    """sqrt whose gradient is 0 (not 0 * inf) where the variance is 0, as PyTorch's std backward."""

    @staticmethod
    @quiet
    def forward(ctx, a):
        result = ctx.xp.asarray(ctx.xp.sqrt(a))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        result, = ctx.saved_tensors
        zero = _constant((result._data == 0).astype(result._data.dtype))
        return grad * (1 - zero) / (2 * (result + zero))


def _deviation(name, input, dim, unbiased, keepdim, correction, scale=1.0):
    """The standard deviation over ``dim`` and the reduced dims."""
    if input.dtype in (_dtype.float16, _dtype.bfloat16, _dtype.float32):
        return _variance(name, input, dim, unbiased, keepdim, correction, root=True, stacklevel=4)
    variance, dims = _variance(name, input, dim, unbiased, keepdim, correction, scale, stacklevel=4)
    return SqrtOfVariance.apply(variance), dims


@tensor_method
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Variance over ``dim`` with Bessel's ``correction`` (1 by default; legacy ``unbiased`` also accepted)."""
    variance = _variance("var", input, dim, unbiased, keepdim, correction)[0]
    return write_out(out, name_node(variance, "VarBackward0", (input,)), "var")


@tensor_method
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Standard deviation over ``dim`` with Bessel's ``correction`` (1 by default)."""
    deviation = _deviation("std", input, dim, unbiased, keepdim, correction)[0]
    return write_out(out, name_node(deviation, "StdBackward0", (input,)), "std")


def _welford_mean(input, dims, keepdim, scale):
    """var_mean's and std_mean's mean: a float32 input's taken in float64 and rounded once, as PyTorch's Welford
    kernel (double accumulators) gives it."""
    if input.dtype is _dtype.float32:
        return mean(input.double(), dims, keepdim).float()
    return mean(input * scale, dims, keepdim) / scale


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """(variance, mean) over ``dim``."""
    scale = _mean_scale(input)
    variance, dims = _variance("var_mean", input, dim, unbiased, keepdim, correction, scale)
    return write_tuple(out, (name_node(variance, "VarMeanBackward0", (input,)),
                              name_node(_welford_mean(input, dims, keepdim, scale), "VarMeanBackward0", (input,))))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """(standard deviation, mean) over ``dim``."""
    scale = _mean_scale(input)
    deviation, dims = _deviation("std_mean", input, dim, unbiased, keepdim, correction, scale)
    return write_tuple(out, (name_node(deviation, "StdMeanBackward0", (input,)),
                              name_node(_welford_mean(input, dims, keepdim, scale), "StdMeanBackward0", (input,))))
