"""Cumulative ops along one dim: cumsum, cumprod, logcumsumexp, cummax and cummin, each with its gradient."""
import numpy

from .. import _dtype, _compat
from .._backend import xp_of
from .._tensor import _make
from ..autograd.function import Primitive, composite
from ._util import quiet, tensor_method, wrap_dim, write_out
from .reduction import _INT64, TakeAlongDim, _constant, _nan_mask, _write_tuple, return_type, sum

__all__ = ["cumsum", "cumprod", "logcumsumexp", "cummax", "cummin"]


class Cumsum(Primitive):
    @staticmethod
    @quiet
    def forward(ctx, a, dim, dtype):
        ctx.dim = dim
        return ctx.xp.cumsum(a, axis=dim, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        return ReverseCumsum.apply(grad, ctx.dim)


class ReverseCumsum(Primitive):
    """Sums from each position to the end along ``dim``: the gradient of cumsum."""

    @staticmethod
    @quiet
    def forward(ctx, a, dim):
        ctx.dim = dim
        xp = ctx.xp
        return xp.flip(xp.cumsum(xp.flip(a, dim), axis=dim), dim)

    @staticmethod
    def backward(ctx, grad):
        return Cumsum.apply(grad, ctx.dim, None)


class Cumprod(Primitive):
    @staticmethod
    @quiet
    def forward(ctx, a, dim, dtype):
        ctx.dim = dim
        result = ctx.xp.cumprod(a, axis=dim, dtype=dtype)
        ctx.save_for_backward(a, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        a, result = ctx.saved_tensors
        if not (a._data == 0).any():
            return ReverseCumsum.apply(grad * result, ctx.dim) / a
        # With zeros, result / a is 0/0: sum grad_i * d(result_i)/d(a_k) over i directly (n^2 along dim). The
        # derivatives are constants here, so a second backward through a is exact only away from zeros.
        d = ctx.dim
        spread = grad.reshape(grad.shape[:d] + (1,) + grad.shape[d:])
        return sum(spread * _constant(_cumprod_partials(a._data, d)), d + 1)


def _cumprod_partials(a, dim):
    """partials[..., k, i, ...] (k at ``dim``, i after it) = d cumprod(a)_i / d a_k = prod_{j<=i, j!=k} a_j for
    i >= k, else 0."""
    xp = xp_of(a)
    a = xp.moveaxis(a, dim, -1)
    n = a.shape[-1]
    k = xp.arange(n)
    replaced = xp.where(k[:, None] == k[None, :], 1, a[..., None, :])   # row k: a with a_k set to 1
    partials = xp.cumprod(replaced, axis=-1) * (k[None, :] >= k[:, None])
    return xp.moveaxis(partials, (-2, -1), (dim, dim + 1))


def _cumulative_dtype(input, dtype):
    if dtype is not None:
        return _dtype.as_dtype(dtype).numpy
    return _INT64 if input.dtype._category <= _dtype._INT else None


def _cumulative(primitive, input, dim, dtype):
    d = wrap_dim(dim, input.ndim)
    if input.ndim == 0:
        return primitive.apply(input.reshape(1), 0, _cumulative_dtype(input, dtype)).reshape(())
    return primitive.apply(input, d, _cumulative_dtype(input, dtype))


@tensor_method
@composite("cumsum", trace_inside=True)
def cumsum(input, dim, *, dtype=None, out=None):
    """Running sum along ``dim``."""
    return write_out(out, _cumulative(Cumsum, input, dim, dtype), "cumsum")


@tensor_method
@composite("cumprod", trace_inside=True)
def cumprod(input, dim, *, dtype=None, out=None):
    """Running product along ``dim``; the gradient is exact also where inputs are zero."""
    return write_out(out, _cumulative(Cumprod, input, dim, dtype), "cumprod")


class Logcumsumexp(Primitive):
    """log(cumsum(exp(a))) along ``dim`` by pairwise log-add-exp, accumulated in float32 for 16-bit inputs."""

    @staticmethod
    @quiet
    def forward(ctx, a, dim):
        xp = ctx.xp
        if a.dtype.kind == "c":
            result = _complex_logcumsumexp(a, dim)
        else:
            wide = a.astype(numpy.float32) if a.dtype.itemsize < 4 else a
            result = _compat.accumulate(xp, "logaddexp", wide, dim).astype(a.dtype, copy=False)
        ctx.dim = dim
        ctx.save_for_backward(a, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        # sum_{i>=j} grad_i exp(a_j - result_i), with positive and negative grads in separate log-space sums so
        # that neither exp overflows (the formula TensorFlow and PyTorch use, NaN where a whole prefix is -inf)
        a, result = ctx.saved_tensors
        if grad.dtype.is_complex:
            return (_reverse_logcumsumexp(grad.conj().log() - result, ctx.dim) + a).exp().conj()
        lowest = float(numpy.finfo(_dtype.as_dtype(grad.dtype).numpy).min)
        log_size = grad.abs().log()

        def part(mask):
            logs = log_size.where(mask, _constant(numpy.asarray(lowest, dtype=_dtype.as_dtype(grad.dtype).numpy)))
            return (_reverse_logcumsumexp(logs - result, ctx.dim) + a).exp()
        return part(grad > 0) - part(grad < 0)


def _complex_logcumsumexp(a, dim):
    """Complex log-add-exp accumulated one position at a time (NumPy's logaddexp has no complex loop), each step
    ``larger + log1p(exp(smaller - larger))`` ordered by real part."""
    xp = xp_of(a)
    moved = xp.moveaxis(a, dim, 0)
    result = xp.empty_like(moved)
    total = moved[0] if len(moved) else None
    for i in range(len(moved)):
        if i:
            item = moved[i]
            larger = xp.where(total.real >= item.real, total, item)
            smaller = xp.where(total.real >= item.real, item, total)
            with numpy.errstate(invalid="ignore"):
                total = xp.where(xp.isneginf(larger.real), xp.log(xp.exp(larger) + xp.exp(smaller)),
                                 larger + xp.log1p(xp.exp(smaller - larger)))
        result[i] = total
    return xp.moveaxis(result, 0, dim)


def _reverse_logcumsumexp(input, dim):
    return Logcumsumexp.apply(input.flip(dim), dim).flip(dim)


@tensor_method
@composite("logcumsumexp", trace_inside=True)
def logcumsumexp(input, dim, *, out=None):
    """log(cumsum(exp(input))) along ``dim``, without overflow."""
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise NotImplementedError(f'"logcumsumexp_out_cpu" not implemented for '
                                  f"'{_dtype.scalar_type_name(input.dtype)}'")
    d = wrap_dim(dim, input.ndim)
    result = Logcumsumexp.apply(input.reshape(1), 0).reshape(()) if input.ndim == 0 else Logcumsumexp.apply(input, d)
    return write_out(out, result, "logcumsumexp")


_cummax = return_type("cummax")
_cummin = return_type("cummin")


def _running_extreme(array, axis, smallest):
    """Indices of the running max (min) along ``axis``; ties and NaNs move the index forward, as in PyTorch."""
    xp = xp_of(array)
    running = _compat.accumulate(xp, "minimum" if smallest else "maximum", array, axis)
    new_extreme = (array == running) | _nan_mask(array)
    positions = xp.arange(array.shape[axis]).reshape((-1,) + (1,) * (array.ndim - axis - 1))
    return _compat.accumulate(xp, "maximum", xp.where(new_extreme, positions, 0), axis)


def _cumulative_extreme(input, dim, smallest):
    d = wrap_dim(dim, input.ndim)
    source = input if input.ndim else input.reshape(1)
    indices = _running_extreme(source._data, d, smallest).astype(_INT64, copy=False)
    values = TakeAlongDim.apply(source, indices, d)
    kind = _cummin if smallest else _cummax
    if input.ndim == 0:
        return kind(values.reshape(()), _make(indices.reshape(())))
    return kind(values, _make(indices))


@tensor_method
@composite("cummax")   # seen whole at dispatch: its indices come from the data
def cummax(input, dim, *, out=None):
    """(values, indices) of the running maximum along ``dim``."""
    return _write_tuple(out, _cumulative_extreme(input, dim, False))


@tensor_method
@composite("cummin")   # seen whole at dispatch: its indices come from the data
def cummin(input, dim, *, out=None):
    """(values, indices) of the running minimum along ``dim``."""
    return _write_tuple(out, _cumulative_extreme(input, dim, True))


