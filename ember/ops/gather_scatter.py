"""Gather and scatter: ``gather`` (values picked along a dim by an index), ``scatter``/``scatter_add``/
``scatter_reduce`` (values written or combined into positions along a dim), with their gradients and PyTorch's
argument checks."""
import math

import numpy

from .. import _compat, _dtype
from .._warnings import transparent, warn
from .._backend import xp_of
from .._tensor import Tensor, _make
from ..autograd.function import Primitive, composite
from ._inplace import inplace_method
from ._kernel_dtypes import exact_out_dtype, real_scalar
from ._util import name_node, tensor_method, wrap_dim, write_out
from .shape import SliceBackward, reshape

__all__ = ["gather", "scatter", "scatter_add", "scatter_reduce"]


def _along(xp, index, dim):
    """A NumPy index selecting, for each position of ``index``, element ``index[pos]`` along ``dim``."""
    return tuple(index if d == dim else
                 xp.arange(n).reshape((-1,) + (1,) * (index.ndim - d - 1))
                 for d, n in enumerate(index.shape))


def _head(source, index):
    """The part of ``source`` that lines up with ``index`` (source may be larger in every dim)."""
    return source[tuple(slice(0, n) for n in index.shape)]


def _padded(grad, shape):
    """``grad`` zero-padded at the end of each dim to ``shape``."""
    if tuple(grad.shape) == tuple(shape):
        return grad
    return SliceBackward.apply(grad, tuple(shape), tuple(slice(0, n) for n in grad.shape) + (Ellipsis,))


class Gather(Primitive):
    @staticmethod
    def forward(ctx, a, index, dim):
        ctx.shape, ctx.dim = a.shape, dim
        ctx.save_for_backward(index)
        if ctx.xp is numpy and a.flags.c_contiguous and index.ndim == a.ndim:   # one 1-D take: 2x faster
            return a.reshape(-1).take(_flat_along(a.shape, index, dim))
        return a[_along(ctx.xp, index, dim)]

    @staticmethod
    def backward(ctx, grad):
        index, = ctx.saved_tensors
        return GatherAccumulate.apply(grad, index, ctx.dim, ctx.shape), None


class GatherAccumulate(Primitive):
    """Zeros of ``shape`` with ``grad`` summed in at ``index`` along ``dim``: the adjoint of Gather."""

    @staticmethod
    def forward(ctx, grad, index, dim, shape):
        ctx.dim = dim
        ctx.save_for_backward(index)
        out = ctx.xp.zeros(shape, grad.dtype)
        if ctx.xp is numpy and index.ndim == len(shape):   # 1-D add.at is NumPy's fast one; same sums, order
            numpy.add.at(out.reshape(-1), _flat_along(shape, index, dim).reshape(-1), grad.reshape(-1))
        else:
            _compat.ufunc_at(ctx.xp, "add", out, _along(ctx.xp, index, dim), grad)
        return out

    @staticmethod
    def backward(ctx, grad):
        index, = ctx.saved_tensors
        return Gather.apply(grad, index, ctx.dim), None, None, None


def _flat_along(shape, index, dim):
    """The flat positions, in a C-contiguous array of ``shape``, of the elements ``_along(index, dim)`` picks (the
    indices in range and not negative)."""
    strides = [math.prod(shape[d + 1:]) for d in range(len(shape))]
    base = 0   # the position of each index element's line along dim, broadcast
    for d, n in enumerate(index.shape):
        if d != dim and n > 1:
            base = base + (numpy.arange(n, dtype=numpy.int64) * strides[d]).reshape((-1,) + (1,) * (index.ndim - d - 1))
    if strides[dim] == 1:
        return numpy.add(index, base, dtype=numpy.int64)
    return numpy.add(numpy.multiply(index, strides[dim], dtype=numpy.int64), base)


def _check_index_op(name, input, dim, index, src=None):
    """PyTorch's checks shared by gather and the scatters; returns the wrapped dim."""
    if index.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    dim = wrap_dim(dim, input.ndim)
    if index.ndim != input.ndim and index.numel():
        raise RuntimeError("Index tensor must have the same number of dimensions as "
                           f"{'input' if name == 'gather' else 'self'} tensor")
    if src is not None and src.ndim != index.ndim and index.numel():
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    if index.numel():
        for d in range(input.ndim):
            if d != dim and index.shape[d] > input.shape[d]:
                raise RuntimeError(f"Size does not match at dimension {d} expected index {list(index.shape)} to be "
                                   f"no larger than self {list(input.shape)} apart from dimension {dim}")
            if src is not None and index.shape[d] > src.shape[d]:
                raise RuntimeError(f"Size does not match at dimension {d} expected index {list(index.shape)} to be "
                                   f"no larger than src {list(src.shape)}")
        if type(index._data) is numpy.ndarray or not isinstance(index._data, numpy.ndarray):
            # stand-ins of meta tensors and of vmap's examples (ndarray subclasses) hold no positions to check
            _check_positions(index._data, input.shape[dim], dim)
    return dim


def _check_positions(index, size, dim):
    """PyTorch's error for an index of gather or a scatter outside [0, size) (negative ones included), naming the
    first such index."""
    if int(index.min()) < 0 or int(index.max()) >= size:
        bad = index.reshape(-1)[((index < 0) | (index >= size)).reshape(-1).argmax()]
        raise RuntimeError(f"index {int(bad)} is out of bounds for dimension {dim} with size {size}")


def _flat_if_scalar(function):
    """Runs gather or a scatter with its 0-d tensors (input, index, src) as 1-element 1-d ones, as PyTorch's kernels
    take them (``ensure_nonempty_dim``), then gives the result its shape: the index's for gather, the input's for
    the scatters."""
    @transparent
    def run(input, dim, index, *args, **kwargs):
        src = kwargs.get("src")
        if input.ndim and index.ndim and not (isinstance(src, Tensor) and src.ndim == 0) and \
                not any(isinstance(a, Tensor) and a.ndim == 0 for a in args):
            return function(input, dim, index, *args, **kwargs)
        shape = (index if function.__name__ == "gather" else input).shape
        out = kwargs.pop("out", None)
        args = [reshape(a, 1) if isinstance(a, Tensor) and a.ndim == 0 else a for a in args]
        if isinstance(src, Tensor) and src.ndim == 0:
            kwargs["src"] = reshape(src, 1)
        result = function(input if input.ndim else reshape(input, 1), dim, index if index.ndim else reshape(index, 1),
                          *args, **kwargs)
        return write_out(out, reshape(result, shape), function.__name__)
    run.__name__, run.__doc__ = function.__name__, function.__doc__
    return run


@tensor_method
@_flat_if_scalar
def gather(input, dim, index, *, sparse_grad=False, out=None):
    """``out[i][j] = input[index[i][j]][j]`` for dim 0 (and likewise for other dims)."""
    dim = _check_index_op("gather", input, dim, index)
    exact_out_dtype(out, input.dtype)
    return write_out(out, Gather.apply(input, index, dim), "gather")


class Scatter(Primitive):
    """``a`` with ``src`` (a tensor or a number) written at ``index`` along ``dim``."""

    @staticmethod
    def forward(ctx, a, index, src, dim):
        ctx.dim, ctx.src_shape = dim, src.shape if isinstance(src, ctx.xp.ndarray) else None
        ctx.save_for_backward(index)
        out = a.copy()
        values = _head(src, index) if ctx.src_shape is not None else src
        if ctx.xp is numpy and index.ndim == a.ndim:   # one 1-D write at flat positions: 3x faster, same order
            out.reshape(-1)[_flat_along(a.shape, index, dim)] = values
        else:
            out[_along(ctx.xp, index, dim)] = values
        return out

    @staticmethod
    def backward(ctx, grad):
        index, = ctx.saved_tensors
        grad_a = Scatter.apply(grad, index, 0, ctx.dim) if ctx.needs_input_grad[0] else None
        grad_src = _padded(gather(grad, ctx.dim, index), ctx.src_shape) if ctx.needs_input_grad[2] else None
        return grad_a, None, grad_src


_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def _identity(reduce, dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind in "fc":
        return -numpy.inf if reduce == "amax" else numpy.inf
    info = numpy.iinfo(dtype) if dtype.kind != "b" else None
    if info is None:
        return reduce == "amin"
    return info.min if reduce == "amax" else info.max


class ScatterReduce(Primitive):
    """``a`` with ``src`` reduced in at ``index`` along ``dim`` (sum, prod, mean, amax, amin)."""

    @staticmethod
    def forward(ctx, a, index, src, dim, reduce, include_self, saves_result=True):
        xp = ctx.xp
        ctx.dim, ctx.reduce, ctx.include_self, ctx.src_shape = dim, reduce, include_self, src.shape
        values = _head(src, index)
        out = a.copy()
        target, where = out, _along(xp, index, dim)
        if xp is numpy and index.ndim == a.ndim:   # NumPy's 1-D ufunc.at is its fast one; the same order (C order)
            target, where = out.reshape(-1), _flat_along(a.shape, index, dim).reshape(-1)
            values = numpy.ascontiguousarray(values).reshape(-1)
        if not include_self:
            target[where] = _identity(reduce, a.dtype)
        ufunc = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum"}[reduce]
        _compat.ufunc_at(xp, ufunc, target, where, values)
        if reduce == "mean":
            count = xp.full(a.shape, 1 if include_self else 0, dtype=a.dtype)
            _compat.ufunc_at(xp, "add", count.reshape(-1) if target is not out else count, where, 1)
            count = xp.maximum(count, 1)
            out = out / count if a.dtype.kind in "fc" else out // count
            ctx.count = count
        if saves_result:   # as PyTorch's scatter_reduce (an in-place change of the result breaks its backward)
            ctx.save_for_backward(a, index, src, out)
        else:   # scatter_add's backward needs the index only
            ctx.save_for_backward(index)
        return out

    @staticmethod
    def backward(ctx, grad):
        if len(ctx.saved_tensors) == 1:
            index, = ctx.saved_tensors
            return grad, None, _padded(gather(grad, ctx.dim, index), ctx.src_shape)
        a, index, src, out = ctx.saved_tensors
        dim, reduce = ctx.dim, ctx.reduce
        src = _make(_head(src._data, index._data)) if tuple(src.shape) != tuple(index.shape) else src
        if reduce == "sum":
            grad_a, grad_src = grad, gather(grad, dim, index)
        elif reduce == "mean":
            scaled = grad / _make(ctx.count)
            grad_a, grad_src = scaled, gather(scaled, dim, index)
        elif reduce == "prod":
            grad_a, grad_src = _prod_grads(grad, a, index, src, out, dim, ctx.include_self)
        else:
            value = gather(out, dim, index)
            a_is_result = (a == out).to(grad.dtype)
            src_is_result = (src == value).to(grad.dtype)
            count = scatter_add(a_is_result, dim, index, src_is_result)
            distributed = grad / count
            grad_a = a_is_result * distributed
            grad_src = src_is_result * gather(distributed, dim, index)
        if not ctx.include_self:
            grad_a = Scatter.apply(grad_a, index, 0, dim)
        return grad_a, None, _padded(grad_src, ctx.src_shape)


def _prod_grads(grad, a, index, src, out, dim, include_self):
    """Gradients of a product scatter, exact when a factor is zero (as PyTorch computes them)."""
    from .pointwise import where
    masked_a = a.masked_fill(a == 0, 1)
    masked_a_result = scatter_reduce(masked_a, dim, index, src, "prod", include_self=include_self)
    grad_a = grad * masked_a_result / masked_a
    src_zero = src == 0
    zeros_per_slot = scatter_add(a * 0, dim, index, src_zero.to(a.dtype))
    single_zero = src_zero & (gather(zeros_per_slot, dim, index) == 1)
    masked_src = src.masked_fill(single_zero, 1)
    masked_src_result = scatter_reduce(a, dim, index, masked_src, "prod", include_self=include_self)
    grad_src = where(single_zero, gather(grad * masked_src_result, dim, index),
                     gather(grad * out, dim, index) / src.masked_fill(src_zero, 1))
    return grad_a, grad_src


def _scatter_src(input, src, value):
    """The values a scatter writes: a tensor of input's dtype (PyTorch does not promote), or a number as one."""
    src = value if src is None else src
    if isinstance(src, Tensor):
        if src.dtype is not input.dtype:
            raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
        return src
    return input._data.dtype.type(real_scalar(src, input.dtype))


@tensor_method
@_flat_if_scalar
def scatter(input, dim, index, src=None, value=None, *, reduce=None, out=None):
    """A copy of ``input`` with ``src`` (a tensor, or the number ``value``) written at ``index`` along ``dim``.

    ``reduce='add'`` or ``'multiply'`` combines with the existing values instead.
    """
    if src is None and value is None:
        raise TypeError("scatter() missing 1 required positional argument: 'src' or 'value'")
    dim = _check_index_op("scatter", input, dim, index, src if isinstance(src, Tensor) else None)
    scalar = not isinstance(src, Tensor)
    src = _scatter_src(input, src, value)
    if reduce is None:
        result = Scatter.apply(input, index, src, dim)
        if scalar:   # PyTorch's scatter of a value: one input
            name_node(result, "ScatterBackward1", (input,))
        return write_out(out, result, "scatter")
    if reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    if isinstance(src, Tensor):
        warn("The reduce argument of torch.scatter with Tensor src is deprecated and will be removed in a future "
             "PyTorch release. Use torch.scatter_reduce instead for more reduction options.", UserWarning, stacklevel=2)
    else:
        src = _make(xp_of(input._data).full(index.shape, src, dtype=input._data.dtype))
    return write_out(out, ScatterReduce.apply(input, index, src, dim, "sum" if reduce == "add" else "prod", True),
                     "scatter")


@tensor_method
@composite("scatter_add", trace_inside=True)
@_flat_if_scalar
def scatter_add(input, dim, index, src, *, out=None):
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeated indices add up)."""
    dim = _check_index_op("scatter_add", input, dim, index, src)
    result = ScatterReduce.apply(input, index, _scatter_src(input, src, None), dim, "sum", True, False)
    return write_out(out, name_node(result, "ScatterAddBackward0", (input, src)), "scatter_add")


@tensor_method
@_flat_if_scalar
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True, out=None):
    """A copy of ``input`` with ``src`` reduced in at ``index`` along ``dim``: 'sum', 'prod', 'mean', 'amax' or
    'amin'; ``include_self=False`` leaves the original values out of the reduction."""
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    dim = _check_index_op("scatter_reduce", input, dim, index, src)
    return write_out(out, ScatterReduce.apply(input, index, _scatter_src(input, src, None), dim, reduce,
                                              bool(include_self)), "scatter_reduce")


for _function in (scatter, scatter_add, scatter_reduce):
    inplace_method(_function)
