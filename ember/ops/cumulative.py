"""Cumulative ops along one dim: cumsum, cumprod, logcumsumexp, cummax and cummin, each with its gradient."""
import math

import numpy

from .. import _dtype, _compat
from .._backend import xp_of
from .._tensor import _make
from . import _buffers
from ..autograd._saved import keep_versions
from ..autograd.function import Primitive, composite
from ._kernel_dtypes import _not_implemented, refuse_complex_selection
from ._util import (argument_error, holomorphic_backward, name_node, quiet, row_major_result, tensor_method, wrap_dim,
                    write_out)
from .rearrange import stack
from .reduction import (_INT64, ScatterAddAlongDim, TakeAlongDim, _constant, _nan_mask, dtype_under_out, return_type,
                        sum)
from .tuple_out import write_tuple

__all__ = ["cumsum", "cumprod", "logcumsumexp", "cummax", "cummin"]

# NumPy's accumulate runs one dependent chain through memory per slice: ~3.4 ns a float element along a last axis
# and 10-14 ns along a leading one (1M float32 or float64, one thread), where PyTorch takes ~1 ns and ~6 ns.
_ROW_LOOP = 256   # elements per slice from which _scan loops over the positions along the axis instead
_BLOCK = 8        # positions per block in _scan_blocks


def _scan(name, a, axis):
    """``numpy.<name>.accumulate(a, axis=axis)`` for add, multiply, maximum and minimum, as vector ops over whole
    slices where those are long enough: one ufunc call per position along a leading axis, or blocks along a last
    one for 4-byte max/min (sums and products stay in order, so floats round as PyTorch's sequential scans do;
    NumPy accumulates integer sums and products at ~0.5 ns already)."""
    xp = xp_of(a)
    n = a.shape[axis]
    if xp is not numpy:
        return _compat.accumulate(xp, name, a, axis)
    ufunc = getattr(numpy, name)
    inner = math.prod(a.shape[axis + 1:])
    if a.size and inner >= 16 and a.size // n >= _ROW_LOOP:
        return _scan_positions(ufunc, a, axis)
    if a.size and inner == 1 and n >= 2 * _BLOCK and a.dtype.itemsize <= 4 and name in ("maximum", "minimum"):
        return _scan_blocks(ufunc, a, n)
    return ufunc.accumulate(a, axis=axis, dtype=a.dtype)


def _scan_positions(ufunc, a, axis):
    """The scan as one ufunc call per position along ``axis``, each over the whole slice at that position."""
    out = _buffers.empty(numpy, a.shape, a.dtype)
    source, target = numpy.moveaxis(a, axis, 0), numpy.moveaxis(out, axis, 0)
    target[0] = source[0]
    for i in range(1, len(source)):
        ufunc(target[i - 1], source[i], out=target[i])
    return out


def _scan_blocks(ufunc, a, n):
    """The scan along the last axis (length ``n``) of ``a``: within blocks of ``_BLOCK`` positions by one ufunc
    call per position (over every block at once), then the scanned block totals combined into the next blocks."""
    rows = numpy.ascontiguousarray(a).reshape(-1, n)
    out = _buffers.empty(numpy, rows.shape, a.dtype)
    whole = n - n % _BLOCK
    source = rows[:, :whole].reshape(len(rows), -1, _BLOCK)
    inside = _buffers.empty(numpy, (_BLOCK,) + source.shape[:2], a.dtype)   # (position in the block, row, block)
    inside[0] = source[..., 0]
    for j in range(1, _BLOCK):
        ufunc(inside[j - 1], source[..., j], out=inside[j])
    before = _scan(ufunc.__name__, inside[-1], 1)[:, :-1]   # everything before each block after the first
    target = numpy.moveaxis(out[:, :whole].reshape(source.shape), 2, 0)
    target[:, :, 0] = inside[:, :, 0]
    ufunc(inside[:, :, 1:], before, out=target[:, :, 1:])
    for i in range(whole, n):
        ufunc(out[:, i - 1], rows[:, i], out=out[:, i])
    return out.reshape(a.shape)


# The type PyTorch's CPU scans accumulate a dtype in (its acc_type): each output is rounded once to the dtype.
_ACCUMULATE_IN = {"float16": numpy.float32, "bfloat16": numpy.float32, "float32": numpy.float64,
                  "complex64": numpy.complex128}


def _accumulate(name, a, dim, dtype):
    """``_scan`` in ``dtype`` (when given), as NumPy's cumsum/cumprod with ``dtype`` accumulate. Floating types
    accumulate in PyTorch's wider type (16-bit floats in float32, float32 in float64, complex64 in complex128), each
    output rounded once, as PyTorch's CPU scans do."""
    target = a.dtype if dtype is None else numpy.dtype(dtype)
    wide = _ACCUMULATE_IN.get(target.name)
    if wide is not None:
        return _scan(name, a.astype(target, copy=False).astype(wide), dim).astype(target)
    return _scan(name, a.astype(target, copy=False), dim)


class Cumsum(Primitive):
    @staticmethod
    @quiet
    def forward(ctx, a, dim, dtype):
        ctx.dim = dim
        return _accumulate("add", a, dim, dtype)

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
        return xp.flip(_accumulate("add", xp.flip(a, dim), dim, None), dim)

    @staticmethod
    def backward(ctx, grad):
        return Cumsum.apply(grad, ctx.dim, None)


class Cumprod(Primitive):
    @staticmethod
    @quiet
    def forward(ctx, a, dim, dtype):
        ctx.dim = dim
        result = _accumulate("multiply", a, dim, dtype)
        ctx.save_for_backward(a, result)
        return result

    @staticmethod
    @holomorphic_backward
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
        if not isinstance(dtype, _dtype.dtype):   # a name or a NumPy dtype: PyTorch's TypeError
            try:
                dtype = _dtype.dtype_arg(dtype)
            except TypeError:
                argument_error()
                raise
        return dtype.numpy
    return _INT64 if input.dtype._category <= _dtype._INT else None


_KERNELS = {"Cumsum": "cumsum_out_cpu", "Cumprod": "cumprod_out_cpu"}


def _cumulative(primitive, input, dim, dtype):
    d = wrap_dim(dim, input.ndim)
    if dtype is _dtype.bool_ or dtype is bool:   # the kernels have no bool loop (a bool input sums as int64)
        raise _not_implemented(_KERNELS[primitive.__name__], _dtype.bool_)
    if input.ndim == 0:
        return primitive.apply(input.reshape(1), 0, _cumulative_dtype(input, dtype)).reshape(())
    return primitive.apply(input, d, _cumulative_dtype(input, dtype))


@tensor_method
@composite("cumsum", trace_inside=True)
@row_major_result
def cumsum(input, dim, *, dtype=None, out=None):
    """Running sum along ``dim``."""
    return write_out(out, _cumulative(Cumsum, input, dim, dtype_under_out(dtype, out)), "cumsum")


@tensor_method
@composite("cumprod", trace_inside=True)
@row_major_result
def cumprod(input, dim, *, dtype=None, out=None):
    """Running product along ``dim``; the gradient is exact also where inputs are zero."""
    return write_out(out, _cumulative(Cumprod, input, dim, dtype_under_out(dtype, out)), "cumprod")


class Logcumsumexp(Primitive):
    """log(cumsum(exp(a))) along ``dim`` by pairwise log-add-exp, accumulated in PyTorch's wider type (float32 for
    16-bit inputs, float64 for float32)."""

    @staticmethod
    @quiet
    def forward(ctx, a, dim):
        xp = ctx.xp
        if a.dtype.kind == "c":
            result = _complex_logcumsumexp(a, dim)
        else:
            wide = a.astype(_ACCUMULATE_IN.get(a.dtype.name, a.dtype))
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
        if grad.requires_grad:   # differentiated with respect to grad (jvp, jacfwd): a form linear in it
            return _linear_in_grad(grad, a, result, ctx.dim)
        lowest = float(numpy.finfo(_dtype.as_dtype(grad.dtype).numpy).min)
        log_size = grad.abs().log()

        def part(mask):
            logs = log_size.where(mask, _constant(numpy.asarray(lowest, dtype=_dtype.as_dtype(grad.dtype).numpy)))
            return (_reverse_logcumsumexp(logs - result, ctx.dim) + a).exp()
        return part(grad > 0) - part(grad < 0)


def _linear_in_grad(grad, a, result, dim):
    """Logcumsumexp's input gradient sum_{i>=j} grad_i exp(a_j - result_i) as exp(a_j - result_j) S_j with
    S_j = grad_j + exp(result_j - result_{j+1}) S_{j+1}: linear in grad, so its derivative with respect to grad is
    right also where grad is 0 (the log-space form's log|grad| is not), and without overflow (result never
    decreases along dim, so each factor is at most 1). One step per position: for differentiated gradients only."""
    g, r = grad.movedim(dim, 0), result.movedim(dim, 0)
    if not g.shape[0]:
        return grad * 0
    decay = (r[:-1] - r[1:]).exp()
    sums = [g[-1]]
    for j in range(g.shape[0] - 2, -1, -1):
        sums.append(g[j] + decay[j] * sums[-1])
    return ((a.movedim(dim, 0) - r).exp() * stack(sums[::-1])).movedim(0, dim)


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
@row_major_result
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
    """The running max (min) along ``axis`` and its int64 indices; ties and NaNs move the index forward, as in
    PyTorch."""
    xp = xp_of(array)
    running = _scan("minimum" if smallest else "maximum", array, axis)
    new_extreme = xp.equal(array, running, out=_buffers.empty(xp, array.shape, bool))
    if array.dtype.kind not in "biu":
        new_extreme |= _nan_mask(array)
    n = array.shape[axis]
    if xp is numpy and array.ndim == axis + 1 and numpy.count_nonzero(new_extreme) * 16 <= array.size:
        # few new extremes along a last axis (random data: 8K of 1M): their positions repeated over their runs
        # (0.4 ms against 3.5 ms for the scan below; 19 ms where every element is one)
        starts = numpy.flatnonzero(new_extreme)   # each row's first position is one: no run crosses rows
        indices = numpy.repeat(starts % n, numpy.diff(starts, append=array.size)).reshape(array.shape)
    else:   # the last new extreme so far: positions (4 bytes: they scan in blocks) where there is one, scanned
        positions = xp.arange(n, dtype=xp.int32 if n < 2 ** 31 else xp.int64)
        positions = positions.reshape((-1,) + (1,) * (array.ndim - axis - 1))
        numbered = xp.multiply(positions, new_extreme, out=_buffers.empty(xp, array.shape, positions.dtype))
        indices = _buffers.empty(xp, array.shape, _INT64)
        indices[...] = _scan("maximum", numbered, axis)
    if array.dtype.kind not in "biu" and (running == 0).any():   # maximum keeps the first of 0.0 and -0.0, PyTorch
        running = xp.take_along_axis(array, indices, axis)
    return running, indices


class RunningExtreme(TakeAlongDim):
    """TakeAlongDim whose values, the running extremes, are already at hand: its forward returns them."""

    graph_inputs = (0,)   # the input (values are the forward's own result)

    @staticmethod
    def forward(ctx, a, indices, dim, values):
        ctx.shape, ctx.indices, ctx.dim = a.shape, indices, dim
        return values

    @staticmethod
    def backward(ctx, grad):
        return ScatterRuns.apply(grad, ctx.indices, ctx.dim, ctx.shape)


class ScatterRuns(ScatterAddAlongDim):
    """ScatterAddAlongDim for the indices of a running extreme, which repeat along ``dim`` in runs that start at
    their own index. 1M float32: ufunc.at with an index per axis takes 12-25 ms; along a last axis one reduceat of the
    runs takes 0.6 ms, elsewhere ufunc.at on flat indices ~5 ms."""

    @staticmethod
    def forward(ctx, values, indices, dim, shape):
        if ctx.xp is not numpy or not values.size:
            return ScatterAddAlongDim.forward(ctx, values, indices, dim, shape)
        ctx.indices, ctx.dim = indices, dim
        out = _buffers.empty(numpy, shape, values.dtype)
        out.fill(0)
        n, inner = shape[dim], math.prod(shape[dim + 1:])
        if inner == 1:
            starts = numpy.flatnonzero(indices.reshape(-1, n) == numpy.arange(n))
            out.reshape(-1)[starts] = numpy.add.reduceat(values.reshape(-1), starts)
        else:
            blocks = numpy.arange(0, values.size, n * inner).reshape(-1, 1, 1) + numpy.arange(inner)
            flat = indices.reshape(-1, n, inner) * inner + blocks
            numpy.add.at(out.reshape(-1), flat.reshape(-1), values.reshape(-1))
        return out


def _cumulative_extreme(input, dim, smallest):
    d = wrap_dim(dim, input.ndim)
    refuse_complex_selection("cummin_cpu" if smallest else "cummax_cpu", "cummin" if smallest else "cummax", input)
    source = input if input.ndim else input.reshape(1)
    running, indices = _running_extreme(source._data, d, smallest)
    values = RunningExtreme.apply(source, indices, d, running)
    kind = _cummin if smallest else _cummax
    if input.ndim == 0:
        values, indices = values.reshape(()), indices.reshape(())
    indices = _make(indices)
    return kind(keep_versions(name_node(values, "CumminBackward0" if smallest else "CummaxBackward0"), indices), indices)


@tensor_method
@composite("cummax")   # seen whole at dispatch: its indices come from the data
@row_major_result
def cummax(input, dim, *, out=None):
    """(values, indices) of the running maximum along ``dim``."""
    return write_tuple(out, _cumulative_extreme(input, dim, False), "cumulative")


@tensor_method
@composite("cummin")   # seen whole at dispatch: its indices come from the data
@row_major_result
def cummin(input, dim, *, out=None):
    """(values, indices) of the running minimum along ``dim``."""
    return write_tuple(out, _cumulative_extreme(input, dim, True), "cumulative")


