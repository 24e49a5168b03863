"""Order statistics over dims: median and nanmedian, mode, quantile and nanquantile, with PyTorch's ``dim``/
``keepdim`` arguments. Median and mode return input values gathered at int64 indices (ties resolved as PyTorch
picks), so gradients scatter back to the picked positions."""
import numpy

from .. import _dtype, _compat
from .._backend import xp_of
from .._tensor import Tensor, _make
from ..autograd.function import composite
from . import _std_sort
from ._kernel_dtypes import FLOATING, refuse_complex_selection, require_dtype
from ._util import name_node, quiet, tensor_method, wrap_dim, write_out
from .reduction import (_INT64, Amax, TakeAlongDim, _check_nonempty_dims, _constant, _dropped_shape, _kept_shape,
                        _nan_mask, keepdim_arg, pick_along, return_type)
from .tuple_out import write_tuple

__all__ = ["median", "nanmedian", "mode", "quantile", "nanquantile"]


def _stable_argsort(array, axis):
    """Ascending stable argsort along ``axis``, NaN last (as PyTorch sorts)."""
    return xp_of(array).argsort(array, axis=axis, kind="stable")


_median_type = return_type("median")
_nanmedian_type = return_type("nanmedian")
_mode = return_type("mode")


def _median_index(array, axis, ignore_nan):
    """Index of the lower median along ``axis`` (keepdims): of tied elements, the one a stable sort puts in the middle,
    as PyTorch picks; the first NaN's where the slice has NaNs (all NaNs with ``ignore_nan``)."""
    xp = xp_of(array)
    n = array.shape[axis]
    nan = _nan_mask(array) if array.dtype.kind not in "biu" else None
    nans = 0 if nan is None else nan.sum(axis=axis, keepdims=True)
    if ignore_nan:
        position = xp.maximum((n - nans - 1) // 2, 0)
    else:
        position = xp.where(nans > 0, n - nans, (n - 1) // 2)
    position = xp.broadcast_to(position, array.shape[:axis] + (1,) + array.shape[axis + 1:])
    if xp is not numpy or array.dtype.kind not in "fiu":
        return xp.take_along_axis(_stable_argsort(array, axis), position, axis)
    # (1024, 1024) float32: a stable argsort takes 48-59 ms, a partitioned copy 5.5 (axis last) to 9 ms (with the
    # transposing copy: partitioning along a leading axis takes 16.5 ms); sorted NaNs come last.
    moved, position = numpy.moveaxis(array, axis, -1), numpy.moveaxis(position, axis, -1)
    ordered = moved.copy(order="C")
    ordered.partition(numpy.unique(position), axis=-1)
    value = numpy.take_along_axis(ordered, position, -1)
    equal = moved == value
    before = (moved < value).sum(axis=-1, keepdims=True)   # elements a stable sort puts before the ties
    if nan is not None and nans.any():   # a NaN median: its index is the first NaN's, after every number
        nan_value = value != value
        equal |= numpy.moveaxis(nan, axis, -1) & nan_value
        before = numpy.where(nan_value, n - numpy.moveaxis(nans, axis, -1), before)
    rank = position - before   # which of the ties, in their order
    if rank.any():
        equal = equal.cumsum(axis=-1) > rank
    return numpy.moveaxis(equal.argmax(axis=-1, keepdims=True), -1, axis)


class MedianAll(Amax):
    """The lower median of all elements, NaN where there is one (where all are, with ``ignore_nan``); the gradient
    is split evenly among the elements equal to it (Amax's backward), as PyTorch splits it."""

    @staticmethod
    @quiet
    def forward(ctx, a, ignore_nan):
        ctx.dims, ctx.keepdim, ctx.nan_ties = tuple(range(a.ndim)), False, True
        flat = a.reshape(-1)
        nans = int(_nan_mask(flat).sum()) if a.dtype.kind not in "biu" else 0
        if nans == flat.size or (nans and not ignore_nan):
            result = ctx.xp.full((), numpy.nan, a.dtype)
        else:   # NaNs sort last
            k = (flat.size - nans - 1) // 2
            result = ctx.xp.asarray(ctx.xp.partition(flat, k)[k])
        ctx.save_for_backward(a, result)
        return result


def _median(name, input, dim, keepdim, out, ignore_nan, kind):
    keepdim_arg(name, keepdim)
    require_dtype("median_cpu" if dim is None else "median_out", input, FLOATING + "liu")
    node = "Nanmedian" if ignore_nan else "Median"
    if dim is None:
        if input.numel() == 0:
            return write_out(out, _make(xp_of(input._data).full((), numpy.nan, input._data.dtype)), name)
        return write_out(out, name_node(MedianAll.apply(input, ignore_nan), node + "Backward0"), name)
    d = wrap_dim(dim, input.ndim)
    if input.ndim:
        _check_nonempty_dims(name + "():", input, (d,))
    values, indices = pick_along(input, d, keepdim, lambda array, axis: _median_index(array, axis, ignore_nan))
    return write_tuple(out, kind(name_node(values, node + "Backward1", (input,)), indices), "median")


@tensor_method
@composite("median")   # seen whole at dispatch: its indices come from the data
def median(input, dim=None, keepdim=False, *, out=None):
    """The lower median (NaN if any); with ``dim``, (values, indices) along it."""
    return _median("median", input, dim, keepdim, out, False, _median_type)


@tensor_method
@composite("nanmedian")   # seen whole at dispatch: its indices come from the data
def nanmedian(input, dim=None, keepdim=False, *, out=None):
    """The lower median ignoring NaNs; with ``dim``, (values, indices) along it."""
    return _median("nanmedian", input, dim, keepdim, out, True, _nanmedian_type)


def _mode_order(array, axis):
    """The ascending order PyTorch's CPU mode kernel scans along ``axis``: ``std::sort`` of (value, index) pairs by
    ``<`` alone, so ties land where its moves leave them and NaNs (unordered) stay among the numbers; a stable argsort
    where no row has ties or NaNs, on CUDA, or past ``_std_sort``'s size limits."""
    order = _stable_argsort(array, axis)
    n = array.shape[axis]
    if xp_of(array) is not numpy or n < 2 or n > _std_sort.LIMIT:
        return order
    keys = numpy.moveaxis(array, axis, -1)
    ranked = numpy.take_along_axis(keys, numpy.moveaxis(order, axis, -1), -1)
    uneven = (ranked[..., 1:] == ranked[..., :-1]).any(-1) | (ranked != ranked).any(-1)
    if not uneven.any() or int(uneven.sum()) * n > _std_sort.BUDGET:
        return order
    rows = numpy.moveaxis(order, axis, -1).copy()
    for where in numpy.ndindex(uneven.shape):
        if uneven[where]:
            values = keys[where].astype(float) if keys.dtype.name == "bfloat16" else keys[where]
            rows[where] = _std_sort.std_sort_order(values.tolist(), False, False)
    return numpy.moveaxis(rows, -1, axis)


def _mode_index(array, axis):
    """Index of the mode along ``axis`` as PyTorch's kernel picks it: in its sorted order, runs of equal values (each
    NaN a run of its own), the first longest run, and the index that run ends on."""
    xp = xp_of(array)
    order = _mode_order(array, axis)
    ordered = xp.take_along_axis(array, order, axis)
    n = array.shape[axis]
    positions = xp.arange(n).reshape((-1,) + (1,) * (array.ndim - axis - 1))
    first = xp.ones(xp.take(ordered, [0], axis=axis).shape, bool)
    changed = xp.take(ordered, xp.arange(1, n), axis=axis) != xp.take(ordered, xp.arange(n - 1), axis=axis)
    starts_run = xp.concatenate([first, changed], axis=axis)
    run_start = _compat.accumulate(xp, "maximum", xp.where(starts_run, positions, 0), axis)
    run_length = positions - run_start + 1
    # The first position that reaches the longest run length ends the smallest value's longest run.
    end = xp.expand_dims(xp.argmax(run_length, axis=axis), axis)
    return xp.take_along_axis(order, end, axis)


@tensor_method
@composite("mode")   # seen whole at dispatch: its indices come from the data
def mode(input, dim=-1, keepdim=False, *, out=None):
    """(values, indices) of the smallest most frequent value along ``dim``."""
    keepdim_arg("mode", keepdim)
    d = wrap_dim(dim, input.ndim)
    refuse_complex_selection("mode_cpu", "mode", input)
    if input.ndim:
        _check_nonempty_dims("mode():", input, (d,))
    values, indices = pick_along(input, d, keepdim, _mode_index)
    return write_tuple(out, _mode(name_node(values, "ModeBackward0", (input,)), indices), "mode")


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_levels(input, q):
    """q as a float64 array of levels, and whether it was a scalar; PyTorch's checks on q."""
    xp = xp_of(input._data)
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError("quantile() q must be a scalar or 1D tensor")
        if q.dtype is not input.dtype:
            raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
        levels, scalar = q._data.astype(numpy.float64).reshape(-1), q.ndim == 0
    else:
        levels, scalar = xp.asarray([float(q)]), True
    outside = (levels < 0) | (levels > 1)
    if outside.any():
        raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {float(levels[outside][0]):g}")
    return levels, scalar


def _quantile_ranks(data, d, levels, ignore_nan, interpolation):
    """Per level (a new leading axis): the sorted positions below and above each quantile, the weight of the one
    above, the uninterpolated rank and its derivative in q."""
    xp = xp_of(data)
    n = data.shape[d]
    nans = _nan_mask(data).sum(axis=d, keepdims=True)[None]
    levels = xp.asarray(levels).reshape((-1,) + (1,) * data.ndim)
    if ignore_nan:
        masked, count = nans == n, n - nans
    else:
        masked, count = nans > 0, n   # a NaN in the slice (sorted last) makes the quantile NaN
    rank_slope = xp.where(masked, 0, count - 1)   # d rank / d q
    ranks = raw = xp.where(masked, n - 1, levels * rank_slope)
    if interpolation == "nearest":
        ranks = xp.round(ranks)
    below, above = xp.floor(ranks).astype(_INT64), xp.ceil(ranks).astype(_INT64)
    if interpolation == "lower":
        above = below
    elif interpolation == "higher":
        below = above
    weights = {"linear": ranks - below, "midpoint": xp.full(ranks.shape, 0.5)}.get(interpolation,
                                                                                  xp.zeros(ranks.shape))
    return below, above, weights.astype(data.dtype), raw, rank_slope


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan):
    """quantile's (or, ``ignore_nan``, nanquantile's) values; the errors name quantile() for both, as PyTorch's."""
    if input.dtype not in (_dtype.float32, _dtype.float64):
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError("quantile() interpolation must be one of linear, lower, higher, midpoint or nearest, but "
                           f"got {interpolation}")
    if input.numel() == 0:
        raise RuntimeError("quantile() input tensor must be non-empty")
    levels, scalar = _quantile_levels(input, q)
    original = input.shape
    if dim is None:
        d = 0
        input = input.reshape(-1)
        shape = (1,) * len(original) if keepdim else ()
    else:
        d = wrap_dim(dim, input.ndim)
        shape = _kept_shape(original, (d,)) if keepdim else _dropped_shape(original, (d,))
        input = input.reshape(input.shape or (1,))
    below, above, weights, raw, rank_slope = _quantile_ranks(input._data, d, levels, ignore_nan, interpolation)
    ordered = TakeAlongDim.apply(input, _stable_argsort(input._data, d), d)
    stacked = ordered.reshape((1,) + input.shape).expand((len(levels),) + input.shape)
    low, high = TakeAlongDim.apply(stacked, below, d + 1), TakeAlongDim.apply(stacked, above, d + 1)
    # as PyTorch: lower, higher and nearest take a sorted value as it is; linear and midpoint lerp
    result = low if interpolation in ("lower", "higher", "nearest") else low.lerp(high, _constant(weights))
    if isinstance(q, Tensor) and q.requires_grad and interpolation == "linear":
        result = result + _quantile_level_term(q, levels, raw, rank_slope, stacked._data, d)
    return result.reshape(shape if scalar else (len(levels),) + shape)


def _quantile_level_term(q, levels, raw, rank_slope, stacked, d):
    """A term equal to zero whose gradient in q is the slope between the sorted neighbours of each rank: what
    linear interpolation's value changes by as q moves."""
    xp = xp_of(stacked)
    slope = (xp.take_along_axis(stacked, xp.ceil(raw).astype(_INT64), d + 1)
             - xp.take_along_axis(stacked, xp.floor(raw).astype(_INT64), d + 1))
    moved = q.reshape((-1,) + (1,) * (raw.ndim - 1)) - _constant(levels.reshape((-1,) + (1,) * (raw.ndim - 1)))
    return moved * _constant(xp.nan_to_num(slope * rank_slope).astype(stacked.dtype))


@tensor_method
@composite("quantile")   # seen whole: the order of the values is computed on the arrays
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """The q-th quantiles over ``dim`` (the flattened input when None); NaN where a slice has NaNs."""
    return write_out(out, _quantile(input, q, dim, keepdim, interpolation, False), "quantile")


@tensor_method
@composite("nanquantile")   # seen whole: the order of the values is computed on the arrays
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """The q-th quantiles over ``dim``, ignoring NaNs."""
    return write_out(out, _quantile(input, q, dim, keepdim, interpolation, True), "nanquantile")
