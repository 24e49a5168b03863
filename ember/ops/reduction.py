"""Reductions over dims: sum, mean, max, norm, logsumexp and friends, each with PyTorch's ``dim``/``keepdim``
arguments (median, mode and quantile are in ``order_statistics``). Ops that pick elements (max with dim, cummax)
return input values gathered at int64 indices, so gradients scatter back to the picked positions."""
import math

import numpy

from .. import _dtype, _compat, _meta, return_types
from .._backend import xp_of
from .._tensor import Tensor, _make
from ..autograd._saved import keep_versions
from ..autograd.function import Primitive, composite, dispatch_hooks
from ._kernel_dtypes import _not_implemented, exact_out_dtype, refuse_complex
from ._summation import CASCADED, torch_sum
from ._util import (_as_view, argument_error, holomorphic_backward, int_arg, name_node, quiet, tensor_method, wrap_dim,
                    wrap_dims, write_out)
from .linalg._common import _CPP_NAMES
from .pointwise.arithmetic import Div
from .shape import Expand
from .tuple_out import write_tuple

__all__ = ["sum", "mean", "prod", "max", "min", "amax", "amin", "aminmax", "argmax", "argmin", "norm", "logsumexp",
           "all", "any",
           "count_nonzero", "nansum", "nanmean",
           "bincount", "histc", "_is_all_true", "_is_any_true"]

_INT64 = numpy.dtype(numpy.int64)


def return_type(name, fields=("values", "indices")):
    """The named tuple type ``ember.return_types.<name>``, as ``torch.return_types.<name>``."""
    return return_types.structseq(name, fields)


# --- shared helpers -------------------------------------------------------------------------------------------
def _reduction_dims(input, dim):
    """The dims a reduction covers as a sorted tuple: all of them for None or an empty list, () for a 0-d input."""
    if dim is None or (not isinstance(dim, (int, numpy.integer)) and len(dim) == 0):
        return tuple(range(input.ndim))
    dims = tuple(sorted(wrap_dims(dim, input.ndim)))
    return dims if input.ndim else ()


def keepdim_arg(name, keepdim):
    """Refuses a ``keepdim`` that is no bool with PyTorch's parser error for the op being run (one identity check on
    the usual path)."""
    if keepdim is not True and keepdim is not False:
        argument_error()
        _check_keepdim(name, keepdim)


def _check_keepdim(name, keepdim):
    """PyTorch's TypeError for a ``keepdim`` that is not a bool (``x.sum(0, 1)``)."""
    if not isinstance(keepdim, bool):
        kind = type(keepdim)
        kind = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
        raise TypeError(f"{name}(): argument 'keepdim' (position 2) must be bool, not {kind}")


def _kept_shape(shape, dims):
    """``shape`` with each reduced dim set to 1 (the keepdim shape)."""
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _dropped_shape(shape, dims):
    """``shape`` without the reduced dims."""
    return tuple(s for i, s in enumerate(shape) if i not in dims)


def _unsqueeze_to(grad, shape, dims, keepdim):
    """Reshapes a reduced gradient so it broadcasts against the input of shape ``shape``."""
    if keepdim or not dims or len(dims) == len(shape):   # a 0-d gradient already broadcasts everywhere
        return grad
    return grad.reshape(_kept_shape(shape, dims))


class ExpandedCopy(Expand):
    """``expand`` written into a new array: for small results, filling one is cheaper than NumPy's broadcast_to."""

    @staticmethod
    def forward(ctx, a, shape):
        out = ctx.xp.empty(shape, a.dtype)
        out[...] = a
        return out


ExpandedCopy._node_cls.__name__ = ExpandedCopy._node_cls.__qualname__ = "ExpandBackward0"
_add_reduce = numpy.add.reduce
_SMALL = 1 << 14   # elements up to which a reduced gradient is expanded by copying


def _expand_to(grad, shape):
    """``grad.expand(shape)`` without the argument checks: a reduced gradient always broadcasts to its input."""
    if grad._data.shape == shape:
        return grad
    if math.prod(shape) <= _SMALL:
        return ExpandedCopy.apply(grad, shape)
    return _as_view(Expand.apply(grad, shape), grad)


def _constant(array):
    """An array (or the NumPy scalar a 0-d NumPy op returns) as a tensor outside the graph."""
    return _make(numpy.asarray(array) if isinstance(array, numpy.generic) else array)


def _check_nonempty_dims(prefix, input, dims):
    for d in dims:
        if input.shape[d] == 0:
            raise IndexError(f"{prefix} Expected reduction dim {d} to have non-zero size.")


def _float_only(name, input):
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(f"{name}(): input dtype should be either floating point or complex dtypes. "
                           f"Got {_dtype.scalar_type_name(input.dtype)} instead.")


def _as_floating(input):
    """Integer and bool inputs of float-valued reductions become the default float dtype, as in PyTorch."""
    if input.dtype.is_floating_point or input.dtype.is_complex:
        return input
    return input.to(_dtype.get_default_dtype())


# --- gathering and scattering: how picked values get their gradient --------------------------------------------
class TakeAlongDim(Primitive):
    @staticmethod
    def forward(ctx, a, indices, dim):
        ctx.shape, ctx.indices, ctx.dim = a.shape, indices, dim
        return ctx.xp.take_along_axis(a, indices, dim)

    @staticmethod
    def backward(ctx, grad):
        return ScatterAddAlongDim.apply(grad, ctx.indices, ctx.dim, ctx.shape)


class ScatterAddAlongDim(Primitive):
    @staticmethod
    def forward(ctx, values, indices, dim, shape):
        ctx.indices, ctx.dim = indices, dim
        xp = ctx.xp
        out = xp.zeros(shape, values.dtype)
        index = list(_compat.sparse_indices(xp, indices.shape))
        index[dim] = indices
        _compat.ufunc_at(xp, "add", out, tuple(index), values)
        return out

    @staticmethod
    def backward(ctx, grad):
        return TakeAlongDim.apply(grad, ctx.indices, ctx.dim)


def take_along(input, indices, dim):
    """Input values at the int64 ``indices`` array along ``dim`` (differentiable in ``input``); 0-d inputs work."""
    if input.ndim == 0:
        return TakeAlongDim.apply(input.reshape(1), indices.reshape(1), 0).reshape(indices.shape)
    return TakeAlongDim.apply(input, indices, dim)


def pick_along(input, dim, keepdim, index_of):
    """(values, indices) of the element that ``index_of(array, axis)`` (keepdims indices) picks along ``dim``."""
    d = wrap_dim(dim, input.ndim)
    source = input if input.ndim else input.reshape(1)
    indices = index_of(source._data, d).astype(_INT64, copy=False)
    values = TakeAlongDim.apply(source, indices, d)
    if keepdim and input.ndim:
        indices = _make(indices)
    else:
        shape = _dropped_shape(input.shape, (d,))
        values, indices = values.reshape(shape), _make(indices.reshape(shape))
    return keep_versions(values, indices), indices   # the node holds the indices the caller gets


def _nan_mask(array):
    return array != array


# --- sum, mean, prod ------------------------------------------------------------------------------------------
def _sum_saved(node):
    """What PyTorch's sum nodes save: the input's sizes, and the dims and keepdim of a sum over dims."""
    values = {"self_sym_sizes": tuple(node.shape)}
    if node.name() == "SumBackward1":
        values.update(dim=tuple(node.dims), keepdim=node.keepdim)
    return values


class Sum(Primitive):
    saved_values = staticmethod(_sum_saved)   # PyTorch's saved arguments (_saved_* attributes)

    @staticmethod
    @quiet   # a sum that overflows is inf, silently, as in PyTorch
    def forward(ctx, a, dims, keepdim, dtype):
        ctx.shape, ctx.dims, ctx.keepdim = a.shape, dims, keepdim
        if dtype is None and a.dtype.itemsize == 2 and (a.dtype.kind == "f" or a.dtype.name == "bfloat16"):
            # half-precision sums accumulate in float32, as PyTorch's do
            return a.sum(axis=dims, keepdims=keepdim, dtype=numpy.float32).astype(a.dtype)
        if type(a) is numpy.ndarray:
            if (a.dtype if dtype is None else dtype) in CASCADED and a.dtype.kind != "c":
                # PyTorch's order of adds; a given dtype is cast to first, as PyTorch's kernel does
                return torch_sum(a if dtype is None else a.astype(dtype, copy=False), dims, keepdim)
            return _add_reduce(a, dims, dtype, None, keepdim)   # the ufunc's: ndarray.sum adds a Python frame
        return a.sum(axis=dims, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        return _expand_to(_unsqueeze_to(grad, ctx.shape, ctx.dims, ctx.keepdim), ctx.shape)

    @staticmethod
    def array_backward(ctx, grad):
        shape = ctx.shape
        grad = _unsqueeze_to(grad, shape, ctx.dims, ctx.keepdim)
        if grad.shape == shape:
            return grad
        if math.prod(shape) <= _SMALL:   # as _expand_to
            out = ctx.xp.empty(shape, grad.dtype)
            out[...] = grad
            return out
        return ctx.xp.broadcast_to(grad, shape)


def dtype_under_out(dtype, out):
    """The dtype a sum, product or running sum computes in under ``out=``: out's when none is given (PyTorch's cast
    their input to it, so ``sum(float_input, out=long_out)`` sums truncated values), else PyTorch's error where the
    two differ."""
    if not isinstance(out, Tensor):
        return dtype
    if dtype is None:
        return out.dtype
    if isinstance(dtype, _dtype.dtype) and dtype is not out.dtype:
        raise RuntimeError(f"Expected out tensor to have dtype {_CPP_NAMES[dtype.name]}, but got "
                           f"{_CPP_NAMES[out.dtype.name]} instead")
    return dtype


def _sum_dtype(input, dtype, kernel="sum_cpu"):
    """The dtype a sum (or product) of ``input`` accumulates in: ``dtype``, int64 for integers and bools, else the
    input's (None); float8 inputs are refused by PyTorch's kernels, named ``kernel``, unless ``dtype`` is given."""
    if dtype is not None:
        if not isinstance(dtype, _dtype.dtype):   # a name or a NumPy dtype: PyTorch's TypeError
            try:
                dtype = _dtype.dtype_arg(dtype)
            except TypeError:
                argument_error()
                raise
        return dtype.numpy
    if input._data.dtype.kind in "biu":
        return _INT64   # PyTorch sums bool and integer tensors in int64
    if input._data.dtype.itemsize == 1:   # a float8 (the other one-byte dtypes returned above)
        raise _not_implemented(kernel, input)
    return None


@tensor_method
@composite("sum", trace_inside=True)
def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum of elements over ``dim`` (all dims when None)."""
    if keepdim is not False:
        _check_keepdim("sum", keepdim)
    dtype = dtype_under_out(dtype, out)
    result = Sum.apply(input, _reduction_dims(input, dim), keepdim, _sum_dtype(input, dtype))
    if dim is not None:
        name_node(result, "SumBackward1")
    return result if out is None else write_out(out, result, "sum")


def _count(input, dims):
    count = 1
    for d in dims:
        count *= input.shape[d]
    return count


def _check_mean_dtype(name, input, dtype):
    """PyTorch's refusal of a mean with an integral result: naming the dtype asked for, else the input's."""
    given = dtype if dtype is not None else input.dtype
    if not (given.is_floating_point or given.is_complex):
        raise RuntimeError(f"{name}(): could not infer output dtype. {'Input' if dtype is None else 'Optional'} dtype "
                           f"must be either a floating point or complex dtype. Got: {_dtype.scalar_type_name(given)}")


@tensor_method
def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean of elements over ``dim`` (all dims when None); floating inputs only, as in PyTorch."""
    if keepdim is not False:
        _check_keepdim("mean", keepdim)
    _check_mean_dtype("mean", input, dtype)
    if dtype is not None:
        dtype_under_out(dtype, out)
    half = (dtype or input.dtype) in (_dtype.float16, _dtype.bfloat16)
    if dtype is not None and not half:
        input = input.to(dtype)
    dims = _reduction_dims(input, dim)
    count = _count(input, dims)
    # as PyTorch's CPU kernel: a half-precision mean is a float32 sum divided in float32, rounded once at the end
    if half or dispatch_hooks:
        total = sum(input.float() if half else input, dims, keepdim)
    else:   # what sum(input, dims, keepdim) runs on dims already checked (hooks that key on op names see sum)
        total = name_node(Sum.apply(input, dims, keepdim, _sum_dtype(input, None)), "SumBackward1")
    if not count:
        result = total * float("nan")
    elif total._data.dtype.kind == "f":   # what total / count runs, without the operator's promotion steps
        result = Div.apply(total, float(count))
    else:
        result = total / count
    if half:
        result = result.to(dtype or input.dtype)
    if result.grad_fn is None:
        return write_out(out, result, "mean")
    saved = {"self_sym_numel": input.numel(), "self_sym_sizes": tuple(input.shape)}   # PyTorch's node saves these
    if dim is not None:
        saved.update(dim=dims, keepdim=keepdim)
    return write_out(out, name_node(result, "MeanBackward0" if dim is None else "MeanBackward1", (input,), saved),
                     "mean")


@quiet   # a zero and an inf along the axis: inf * 0 is NaN, silently, as in PyTorch
def _exclusive_products(a, axis):
    """For each element, the product of the other elements along ``axis`` (exact when some are zero)."""
    xp = xp_of(a)
    ones = xp.ones_like(xp.take(a, [0], axis=axis))
    before = xp.cumprod(xp.concatenate([ones, xp.delete(a, -1, axis=axis)], axis=axis), axis=axis)
    flipped = xp.flip(a, axis)
    after = xp.flip(xp.cumprod(xp.concatenate([ones, xp.delete(flipped, -1, axis=axis)], axis=axis), axis=axis),
                    axis)
    return before * after


_PRODUCT_COLUMNS = 64   # columns of partial products (at least) in _product


def _product(a, dim, keepdim, dtype):
    """``a.prod(dim, keepdims=keepdim, dtype=dtype)``. Along a contiguous axis NumPy multiplies one element at a time
    (0.87 ms for (1024, 1024) float32 along dim 1, PyTorch 0.05 ms): there, for floats, a product of column blocks
    into the first (0.36 ms), whose columns are then halved. NumPy's int64 multiply is not vectorized: no gain."""
    xp = xp_of(a)
    n = a.size if dim is None else a.shape[dim]
    if (xp is not numpy or a.dtype.kind != "f" or a.dtype.itemsize < 4 or (dtype or a.dtype) != a.dtype
            or n < 2 * _PRODUCT_COLUMNS or a.size < 1 << 14 or dim not in (None, a.ndim - 1)):
        return xp.asarray(a.prod(axis=dim, keepdims=keepdim, dtype=dtype))
    rows = a.reshape(-1, n)
    width = _PRODUCT_COLUMNS if n < 64 * _PRODUCT_COLUMNS else n // 64   # (this module's max is the op)
    partial = rows[:, :width].copy()
    whole = n - n % width
    for start in range(width, whole, width):
        numpy.multiply(partial, rows[:, start:start + width], out=partial)
    numpy.multiply(partial[:, :n - whole], rows[:, whole:], out=partial[:, :n - whole])
    while width > 1:
        half = width // 2
        numpy.multiply(partial[:, :half], partial[:, half:2 * half], out=partial[:, :half])
        if width % 2:
            partial[:, 0] *= partial[:, width - 1]
        width = half
    if dim is None:
        return partial[0, :1].reshape((1,) * a.ndim if keepdim else ())
    return partial[:, 0].copy().reshape(a.shape[:-1] + (1,) if keepdim else a.shape[:-1])


class Prod(Primitive):
    @staticmethod
    @quiet
    def forward(ctx, a, dim, keepdim, dtype):
        ctx.dim, ctx.keepdim = dim, keepdim
        result = _product(a, dim, keepdim, dtype)
        ctx.save_for_backward(a, result)
        return result

    @staticmethod
    @holomorphic_backward
    def backward(ctx, grad):
        a, result = ctx.saved_tensors
        dims = tuple(range(a.ndim)) if ctx.dim is None else (ctx.dim,)
        grad = _unsqueeze_to(grad, a.shape, dims, ctx.keepdim)
        if not (a._data == 0).any():
            return grad * (_unsqueeze_to(result, a.shape, dims, ctx.keepdim) / a)   # PyTorch's order
        # With zeros, result / a is 0/0; the product of the others is exact (and constant for double backward).
        flat = a._data.reshape(-1) if ctx.dim is None else a._data
        others = _exclusive_products(flat, 0 if ctx.dim is None else ctx.dim).reshape(a.shape)
        return grad * _constant(others)


@tensor_method
@composite("prod", trace_inside=True)
def prod(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Product of all elements, or over the single dim ``dim``."""
    if dim is not None and not isinstance(dim, (int, numpy.integer)):
        raise TypeError(f"prod() received an invalid combination of arguments - got (dim={type(dim).__name__}), "
                        "but expected (int dim, bool keepdim = False, *, torch.dtype dtype = None)")
    axis = None if dim is None else wrap_dim(dim, input.ndim)
    if input.ndim == 0:
        axis = None
    dtype = dtype_under_out(dtype, out)
    result = Prod.apply(input, axis, keepdim, _sum_dtype(input, dtype, "prod_out_cpu"))
    return write_out(out, result if dim is None else name_node(result, "ProdBackward1"), "prod")


# --- max, min and their relatives -----------------------------------------------------------------------------
class Amax(Primitive):
    """max (or min, with ``smallest``) over dims; the gradient is split evenly among tied elements. With
    ``nan_ties`` (full ``max``/``min``) a NaN result's gradient goes to the NaNs; without (``amax``/``amin``, as
    PyTorch's ``result == input`` mask) no element matches a NaN result and its slice's gradient is 0/0, NaN."""

    @staticmethod
    @quiet
    def forward(ctx, a, dims, keepdim, smallest, nan_ties=False):
        ctx.dims, ctx.keepdim, ctx.nan_ties = dims, keepdim, nan_ties
        result = ctx.xp.asarray((a.min if smallest else a.max)(axis=dims, keepdims=keepdim))
        ctx.save_for_backward(a, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        a, result = ctx.saved_tensors
        kept = result._data.reshape(_kept_shape(a.shape, ctx.dims))
        hits = a._data == kept
        if ctx.nan_ties:
            hits |= _nan_mask(a._data) & _nan_mask(kept)
        with numpy.errstate(invalid="ignore"):
            share = hits / hits.sum(axis=ctx.dims, keepdims=True)
        shared = _unsqueeze_to(grad, a.shape, ctx.dims, ctx.keepdim) * _constant(share.astype(a._data.dtype))
        # full max/min fill zeros with the shares (PyTorch's evenly_distribute_backward): +0 elsewhere, where
        # amax/amin multiply by the mask (-0 for a negative gradient), as here
        return shared.where(_constant(hits), 0.0) if ctx.nan_ties else shared


def _extreme(name, input, dim, keepdim, smallest):
    refuse_complex("min_values_cpu" if smallest else "max_values_cpu", input)
    _check_keepdim(name, keepdim)
    if dim is not None and not isinstance(dim, (tuple, list)):
        dim = int_arg(dim)
    if input.numel() == 0 and dim in ((), [], None):
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
                           "reduction dim with the 'dim' argument.")
    dims = _reduction_dims(input, dim)
    if dims and dim is not None:
        for given in dim if isinstance(dim, (tuple, list)) else (dim,):   # in the order given, as PyTorch checks
            if input.shape[wrap_dim(given, input.ndim)] == 0:   # named as given (-1, not its wrapped value)
                raise IndexError(f"{name}(): Expected reduction dim {given} to have non-zero size.")
    return Amax.apply(input, dims, keepdim, smallest)


@tensor_method
def amax(input, dim=(), keepdim=False, *, out=None):
    """Largest value over ``dim`` (all dims by default); ties share the gradient evenly."""
    result = _extreme("amax", input, dim, keepdim, False)
    _check_same_dtype_out(input, out)
    return write_out(out, result, "amax")


@tensor_method
def amin(input, dim=(), keepdim=False, *, out=None):
    """Smallest value over ``dim`` (all dims by default); ties share the gradient evenly."""
    result = name_node(_extreme("amin", input, dim, keepdim, True), "AminBackward0", (input,))
    _check_same_dtype_out(input, out)
    return write_out(out, result, "amin")


def _check_same_dtype_out(input, out):
    """PyTorch's check of amax's and amin's ``out=``: the input's dtype."""
    if isinstance(out, Tensor) and out.dtype is not input.dtype:
        raise RuntimeError(f"Expected the dtype for input and out to match, but got "
                           f"{_dtype.scalar_type_name(input.dtype)} for input's dtype and "
                           f"{_dtype.scalar_type_name(out.dtype)} for out's dtype.")


_max = return_type("max")
_min = return_type("min")
_aminmax = return_type("aminmax", ("min", "max"))


def _argextreme(array, axis, smallest):
    xp = xp_of(array)
    return xp.expand_dims((xp.argmin if smallest else xp.argmax)(array, axis=axis), axis)


def _max_or_min(name, input, dim, keepdim, out, smallest):
    if isinstance(dim, Tensor):   # max(input, other): the elementwise form
        result = input.minimum(dim) if smallest else input.maximum(dim)
        return write_out(out, result, name)
    if dim is None:
        refuse_complex(name + "_all", input)
        if input.numel() == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
                               "the reduction dim with the 'dim' argument.")
        result = Amax.apply(input, tuple(range(input.ndim)), False, smallest, True)
        return write_out(out, name_node(result, name.capitalize() + "Backward1", (input,)), name)
    _check_keepdim(name, keepdim)
    d = wrap_dim(dim, input.ndim)
    _refuse_complex_index(name, input)
    if input.ndim:
        _check_nonempty_dims(name + "():", input, (d,))
    values, indices = pick_along(input, d, keepdim, lambda a, axis: _argextreme(a, axis, smallest))
    name_node(values, name.capitalize() + "Backward0", (input,))
    return write_tuple(out, (_min if smallest else _max)(values, indices), exact=True)


@tensor_method
@composite("max")   # seen whole at dispatch: its indices come from the data
def max(input, dim=None, keepdim=False, *, out=None):
    """The largest element; with ``dim``, (values, indices) of the first largest along it; with a tensor,
    the elementwise maximum."""
    return _max_or_min("max", input, dim, keepdim, out, False)


@tensor_method
@composite("min")   # seen whole at dispatch: its indices come from the data
def min(input, dim=None, keepdim=False, *, out=None):
    """The smallest element; with ``dim``, (values, indices) of the first smallest along it; with a tensor,
    the elementwise minimum."""
    return _max_or_min("min", input, dim, keepdim, out, True)


@tensor_method
def aminmax(input, *, dim=None, keepdim=False, out=None):
    """(min, max) over ``dim`` (all dims when None)."""
    refuse_complex("aminmax_cpu", input)
    dims = _reduction_dims(input, dim)
    if input.numel() == 0 and (dim is None or input.ndim == 0):
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                           "identity.")
    _check_nonempty_dims("aminmax:", input, dims)
    result = _aminmax(Amax.apply(input, dims, keepdim, True), Amax.apply(input, dims, keepdim, False))
    return write_tuple(out, result, exact=True)


def _refuse_complex_index(name, input):
    """PyTorch's error for the ops that return indices of extremes (complex numbers have no order)."""
    if input._data.dtype.kind == "c":
        raise RuntimeError(f"{name}(): does not support complex input")


def _argextreme_reduction(name, input, dim, keepdim, smallest):
    keepdim_arg(name, keepdim)
    _refuse_complex_index(name, input)
    if dim is None:
        if input.numel() == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        flat = input._data.reshape(-1)
        index = _argextreme(flat, 0, smallest).astype(_INT64).reshape(())
        if input.is_meta:   # NumPy's argmax gives a plain scalar: the index of a meta tensor is meta too
            index = _meta.like(index)
        return _make(index.reshape((1,) * input.ndim) if keepdim else index)
    d = wrap_dim(dim, input.ndim)
    if input.ndim:
        _check_nonempty_dims(name + "():", input, (d,))
    source = input._data if input.ndim else input._data.reshape(1)
    index = _argextreme(source, d, smallest).astype(_INT64)
    return _make(index if keepdim and input.ndim else index.reshape(_dropped_shape(input.shape, (d,))))


def _refuse_bool_index(name, input):
    if isinstance(input, Tensor) and input.dtype is _dtype.bool_:
        raise RuntimeError(f"{name}(): does not support bool input")


@tensor_method
@composite("argmax")
def argmax(input, dim=None, keepdim=False, *, out=None):
    """Index of the first largest element (of the flattened input when ``dim`` is None)."""
    _refuse_bool_index("argmax", input)
    exact_out_dtype(out, _dtype.int64)
    return write_out(out, _argextreme_reduction("argmax", input, dim, keepdim, False), "argmax")


@tensor_method
@composite("argmin")
def argmin(input, dim=None, keepdim=False, *, out=None):
    """Index of the first smallest element (of the flattened input when ``dim`` is None)."""
    _refuse_bool_index("argmin", input)
    exact_out_dtype(out, _dtype.int64)
    return write_out(out, _argextreme_reduction("argmin", input, dim, keepdim, True), "argmin")


# --- norms and logsumexp --------------------------------------------------------------------------------------
def _abs(input):
    """|input|, with gradient sign(input) (0 at 0, as PyTorch)."""
    return input * input.sign()   # sign's gradient is 0: the product's is sign(input)


def _widened(array):
    """``array`` in float32 when 16-bit (float16, bfloat16): PyTorch's CPU reductions accumulate those in float32
    and round the result once."""
    if array.dtype.itemsize == 2 and (array.dtype.kind == "f" or array.dtype.name == "bfloat16"):
        return array.astype(numpy.float32)
    return array


class PowerNorm(Primitive):
    """(sum |a|^p)^(1/p) over dims for finite p other than 0 and 1; gradient 0 where the norm is 0."""

    @staticmethod
    @quiet
    def forward(ctx, a, p, dims, keepdim):
        ctx.p, ctx.dims, ctx.keepdim = p, dims, keepdim
        xp = ctx.xp
        wide = _widened(a)
        with numpy.errstate(divide="ignore", over="ignore"):
            if p == 2:
                result = xp.sqrt((wide * wide).sum(axis=dims, keepdims=keepdim))
            else:
                result = (xp.abs(wide) ** p).sum(axis=dims, keepdims=keepdim) ** (1.0 / p)
        result = xp.asarray(result).astype(a.dtype, copy=False)
        ctx.save_for_backward(a, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        a, result = ctx.saved_tensors
        p = ctx.p
        result = _unsqueeze_to(result, a.shape, ctx.dims, ctx.keepdim)
        grad = _unsqueeze_to(grad, a.shape, ctx.dims, ctx.keepdim)
        zero = _constant((result._data == 0).astype(result._data.dtype))
        safe = result + zero
        # PyTorch's norm_backward, in its order (the zero-norm masks multiply by exactly 1 or 0)
        if p == 2:
            return grad * (a / safe) * (1 - zero)
        sign = _constant(xp_of(a._data).sign(a._data))
        magnitude = _abs(a)
        if p < 1:   # |a|^(p - 1) is infinite at zeros, whose gradient is 0 (the sign), as PyTorch's
            magnitude = magnitude + _constant((a._data == 0).astype(a._data.dtype))
            return sign * magnitude ** (p - 1) * grad * result ** (1 - p)
        scaled = a * magnitude ** (p - 2) if p > 2 else sign * magnitude ** (p - 1)
        return scaled * (grad / safe ** (p - 1) * (1 - zero))


def _vector_norm(input, p, dims, keepdim):
    if p == math.inf:
        return amax(_abs(input), dims, keepdim)
    if p == -math.inf:
        return amin(_abs(input), dims, keepdim)
    if p == 0:
        return sum((input != 0).to(input.dtype), dims, keepdim)
    if p == 1:
        return sum(_abs(input), dims, keepdim)
    return PowerNorm.apply(input, float(p), dims, keepdim)


@composite("norm", trace_inside=True)
def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """Vector p-norm over ``dim`` (all dims when None): p may be 'fro', a number, inf or -inf."""
    if dtype is not None:
        input = input.to(dtype)
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_dtype.scalar_type_name(input.dtype)}")
    if p is None or p == "fro" and (dim is None or isinstance(dim, (int, numpy.integer)) or len(dim) <= 2):
        p = 2
    elif isinstance(p, str):   # 'nuc', 'fro' over 3 dims (refused), other names: PyTorch's norm calls matrix_norm
        from .linalg.norms import matrix_norm
        dims = list(range(input.ndim)) if dim is None else dim
        return write_out(out, matrix_norm(input, p, dims, keepdim), "norm")
    if input.dtype.is_complex or p in (math.inf, -math.inf, 0):
        # a real norm of the magnitudes, the infinite norms' gradient (sgn times the ties' mask, as PyTorch orders
        # it, so zeros carry its signs) and the 0-norm's (none), as linalg.vector_norm computes them
        from .linalg.norms import vector_norm
        return write_out(out, vector_norm(input, p, dim, keepdim), "norm")
    if isinstance(dim, (int, numpy.integer)):
        dim = (dim,)
    elif dim is not None and not isinstance(dim, (tuple, list)):   # PyTorch's norm calls linalg.vector_norm here
        from .. import _arg_parser
        _arg_parser.raise_for("linalg_vector_norm", (input, p, dim, keepdim), {} if dtype is None else {"dtype": dtype})
    dims = _reduction_dims(input, dim)
    if (p < 0 or p == math.inf) and _count(input, dims) == 0:
        raise RuntimeError("linalg.vector_norm cannot compute the inf norm on an empty tensor because the operation "
                           "does not have an identity")
    result = _vector_norm(input, p, dims, keepdim)
    return write_out(out, name_node(result, "LinalgVectorNormBackward0", (input,)), "norm")


def _tensor_norm(self, p="fro", dim=None, keepdim=False, dtype=None):
    """``torch.norm`` of this tensor; PyTorch's method takes no ``out``, so a fourth positional is the dtype."""
    return norm(self, p, dim, keepdim, dtype=dtype)


_tensor_norm.__name__, _tensor_norm.__qualname__ = "norm", "Tensor.norm"   # as PyTorch names it
Tensor.norm = _tensor_norm


class Logsumexp(Primitive):
    @staticmethod
    @quiet
    def forward(ctx, a, dims, keepdim):
        xp = ctx.xp
        ctx.dims, ctx.keepdim = dims, keepdim
        wide = _widened(a)
        with numpy.errstate(divide="ignore"):
            if a.size == 0:
                result = xp.log(xp.exp(wide).sum(axis=dims, keepdims=keepdim))
            else:
                peak = wide.max(axis=dims, keepdims=True)
                peak = xp.where(xp.isfinite(peak), peak, 0)   # an all -inf (or inf) slice must not give inf - inf
                result = xp.log(xp.exp(wide - peak).sum(axis=dims, keepdims=True)) + peak
                if not keepdim:
                    result = result.reshape(_dropped_shape(a.shape, dims))
        result = xp.asarray(result).astype(a.dtype, copy=False)
        ctx.save_for_backward(a, result)
        return result

    @staticmethod
    @holomorphic_backward
    def backward(ctx, grad):
        a, result = ctx.saved_tensors
        return (_unsqueeze_to(grad, a.shape, ctx.dims, ctx.keepdim)
                * (a - _unsqueeze_to(result, a.shape, ctx.dims, ctx.keepdim)).exp())


@tensor_method
@composite("logsumexp", trace_inside=True)
def logsumexp(input, dim, keepdim=False, *, out=None):
    """log(sum(exp(input))) over ``dim``, computed without overflow."""
    keepdim_arg("logsumexp", keepdim)
    input = _as_floating(input)
    return write_out(out, Logsumexp.apply(input, _reduction_dims(input, dim), keepdim), "logsumexp")


# --- logical and counting reductions ---------------------------------------------------------------------------
def _logical(name, input, dim, keepdim, out):
    # An empty dim list reduces nothing here (PyTorch's all.dims/any.dims), where sum's reduces everything.
    empty = dim is not None and not isinstance(dim, (int, numpy.integer)) and len(dim) == 0
    dims = () if empty else _reduction_dims(input, dim)
    if out is not None and out.dtype is not _dtype.uint8 and out.dtype is not _dtype.bool_:
        raise RuntimeError(f"{name} only supports bool tensor for result, got: {_dtype.scalar_type_name(out.dtype)}")
    if out is not None and out.dtype is _dtype.uint8:   # PyTorch's kernel reads the input as out's uint8
        input = input.to(_dtype.uint8)
    result = getattr(xp_of(input._data), name)(input._data, axis=dims, keepdims=keepdim)
    result = xp_of(input._data).asarray(result)
    if input.dtype is _dtype.uint8 and (out is None or out.dtype is _dtype.uint8):   # uint8 for uint8 inputs
        result = result.astype(numpy.uint8)
    return write_out(out, _make(result), name)


@tensor_method
@composite("all")
def all(input, dim=None, keepdim=False, *, out=None):
    """True where every element over ``dim`` is nonzero."""
    return _logical("all", input, dim, keepdim, out)


@tensor_method
@composite("any")
def any(input, dim=None, keepdim=False, *, out=None):
    """True where some element over ``dim`` is nonzero."""
    return _logical("any", input, dim, keepdim, out)


def _whole_bool(name, input):
    if input.dtype is not _dtype.bool_:
        raise RuntimeError(f"{name}: expected a bool tensor, got {_dtype.scalar_type_name(input.dtype)}")


@tensor_method
@composite("_is_all_true")
def _is_all_true(input):
    """Whether every element of a bool tensor is True, 0-d (what distributions validate with); under vmap it covers
    the whole batch, as PyTorch's."""
    _whole_bool("_is_all_true", input)
    return input.all()


@tensor_method
@composite("_is_any_true")
def _is_any_true(input):
    """Whether some element of a bool tensor is True, 0-d; under vmap over the whole batch, as PyTorch's."""
    _whole_bool("_is_any_true", input)
    return input.any()


@tensor_method
def count_nonzero(input, dim=None):
    """Number of nonzero elements over ``dim`` (int64)."""
    return sum(input != 0, _reduction_dims(input, dim))   # through the ops, so vmap and tracing see it


# --- NaN-ignoring reductions -----------------------------------------------------------------------------------
class ZeroNan(Primitive):
    """input with NaNs replaced by 0; no gradient flows to the NaNs."""

    @staticmethod
    def forward(ctx, a):
        kept = ~_nan_mask(a)
        ctx.kept = kept
        return ctx.xp.where(kept, a, 0).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return grad * _constant(ctx.kept.astype(grad._data.dtype))


def _refuse_complex_nansum(input):
    if input._data.dtype.kind == "c":
        raise RuntimeError("nansum on CPU does not support complex inputs")


def _check_nansum_dtype(dtype, out):
    """PyTorch's nansum kernel for a float input: its dtype (given, else out's) must be out's and floating (an
    integral dtype sums as ``sum``, with ``dtype_under_out``'s checks)."""
    if isinstance(dtype, _dtype.dtype) and not (dtype.is_floating_point or dtype.is_complex):
        return
    if isinstance(dtype, _dtype.dtype) and isinstance(out, Tensor) and dtype is not out.dtype:
        raise RuntimeError(f"nansum: provided dtype must match dtype of result. Got "
                           f"{_dtype.scalar_type_name(out.dtype)} and {_dtype.scalar_type_name(dtype)}.")
    result = out.dtype if dtype is None and isinstance(out, Tensor) else dtype
    if isinstance(result, _dtype.dtype) and not result.is_floating_point:
        raise _not_implemented("nansum_cpu", result)


@tensor_method
def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum over ``dim`` treating NaNs as zero."""
    _refuse_complex_nansum(input)
    if dtype is None and input.dtype in _dtype.FLOAT8:
        raise _not_implemented("nansum_cpu", input)
    if input.dtype.is_floating_point:
        _check_nansum_dtype(dtype, out)
    dtype = dtype_under_out(dtype, out)
    cleaned = ZeroNan.apply(input) if input.dtype.is_floating_point else input
    return write_out(out, name_node(sum(cleaned, dim, keepdim, dtype=dtype), "NansumBackward0", (input,)), "nansum")


@tensor_method
def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean over ``dim`` of the non-NaN elements."""
    _refuse_complex_nansum(input)
    if not input.dtype.is_floating_point:   # PyTorch checks the input first, then the dtype asked for
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got "
                           f"{_dtype.scalar_type_name(input.dtype)}")
    if dtype is not None:
        _check_mean_dtype("nanmean", input, dtype)
    _check_nansum_dtype(dtype, out)
    if dtype is not None:
        input = input.to(dtype)
    dims = _reduction_dims(input, dim)
    counts = sum(input == input, dims, keepdim, dtype=input.dtype)   # the non-NaN elements
    return write_out(out, nansum(input, dims, keepdim) / counts, "nanmean")


# --- counting ------------------------------------------------------------------------------------------------
@tensor_method
@composite("bincount")   # its size comes from the data: seen whole, so traces record it
def bincount(input, weights=None, minlength=0):
    """Counts of each value of a 1-d non-negative integer tensor (sums of ``weights`` when given)."""
    xp = xp_of(input._data)
    if input.dtype._category != _dtype._INT:
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{_dtype.scalar_type_name(input.dtype)}'")
    if input.ndim != 1 or (input.numel() and int(input._data.min()) < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None or not input.numel():   # PyTorch counts an empty input in int64, weights unread
        return _make(xp.bincount(input._data, minlength=minlength).astype(_INT64))
    if weights.ndim != 1 or weights.shape[0] != input.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    result_dtype = numpy.dtype(numpy.float32 if weights.dtype is _dtype.float32 else numpy.float64)
    counts = xp.bincount(input._data, weights=weights._data.astype(numpy.float64), minlength=minlength)
    return _make(counts.astype(result_dtype))


@tensor_method
@composite("histc")   # seen whole at dispatch: computed on the arrays
def histc(input, bins=100, min=0, max=0, *, out=None):
    """Histogram of ``bins`` equal-width bins between ``min`` and ``max`` (the data's range when both are 0)."""
    if min == max:   # the range comes first, from PyTorch's aminmax kernel
        refuse_complex("aminmax_cpu", input)
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{_dtype.scalar_type_name(input.dtype)}'")
    if bins <= 0:
        raise RuntimeError("torch.histc: bins must be > 0, but got " + str(bins) + " for bins")
    xp = xp_of(input._data)
    data = input._data.reshape(-1)
    low, high = float(min), float(max)
    if low == high and data.size:
        low, high = float(data.min()), float(data.max())
        if not (math.isfinite(low) and math.isfinite(high)):
            raise RuntimeError(f"torch.histc: range of [{low:g}, {high:g}] is not finite")
    if low == high:
        low, high = low - 1, high + 1
    if low > high:
        raise RuntimeError(f"torch.histc: max must be larger than min, but got min {low} max {high}")
    inside = data[(data >= low) & (data <= high)].astype(numpy.float64)
    positions = ((inside - low) * bins / (high - low)).astype(_INT64)
    positions = xp.minimum(positions, bins - 1)
    counts = xp.bincount(positions, minlength=bins).astype(input._data.dtype)
    return write_out(out, _make(counts), "histc")
