"""Sorting and selection: sort, topk, kthvalue, unique, searchsorted. Values outputs are input values gathered at
int64 indices, so their gradients scatter back to where the values came from."""
import math

import numpy

from .. import _compat, _dtype, _meta
from .._backend import xp_of
from .._tensor import Tensor, _make
from ..autograd._saved import keep_versions
from ..autograd.function import composite
from . import _parallel, _std_sort
from ._kernel_dtypes import _not_implemented, refuse_complex, refuse_complex_selection
from ._util import argument_error, int_arg, keeps_layout, name_node, tensor_method, wrap_dim, write_out
from .reduction import TakeAlongDim, _check_nonempty_dims, keepdim_arg, return_type
from .tuple_out import write_tuple

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "unique", "unique_consecutive", "searchsorted",
           "bucketize"]

_INT64 = numpy.dtype(numpy.int64)
_sort = return_type("sort")
_topk = return_type("topk")
_kthvalue = return_type("kthvalue")


def _sort_indices(array, axis, descending, stable=True):
    """Argsort along ``axis``; NaN counts as the largest value. Equal elements keep their order, or with
    ``stable=False`` take the order PyTorch's CPU kernel (``std::sort``) gives them (``_std_sort``)."""
    xp = xp_of(array)
    if not descending:
        order = xp.argsort(array, axis=axis, kind="stable")
    else:   # sorting the reversed array ascending and reading the result backwards keeps ties in input order
        n = array.shape[axis]
        backwards = xp.argsort(xp.flip(array, axis), axis=axis, kind="stable")
        order = n - 1 - xp.flip(backwards, axis)
    if not stable and xp is numpy and _std_sort._THRESHOLD < array.shape[axis] <= _std_sort.LIMIT:
        order = _unstable_ties(array, order, axis, descending)
    return order


def _unstable_ties(array, order, axis, descending):
    """``order`` (a stable argsort) with each row that has equal keys reordered as ``std::sort`` leaves it."""
    keys = numpy.moveaxis(array, axis, -1)
    ranked = numpy.take_along_axis(keys, numpy.moveaxis(order, axis, -1), -1)
    same = ranked[..., 1:] == ranked[..., :-1]
    nan_aware = keys.dtype.kind in "fc" or keys.dtype.name == "bfloat16"
    if nan_aware:
        same |= (ranked[..., 1:] != ranked[..., 1:]) & (ranked[..., :-1] != ranked[..., :-1])
    tied = same.any(-1)
    if not tied.any() or int(tied.sum()) * keys.shape[-1] > _std_sort.BUDGET:
        return order
    rows = numpy.moveaxis(order, axis, -1).copy()
    for where in numpy.ndindex(tied.shape):
        if not tied[where]:
            continue
        values = keys[where].tolist() if keys.dtype.name != "bfloat16" else keys[where].astype(float).tolist()
        rows[where] = _std_sort.std_sort_order(values, descending, nan_aware)
    return numpy.moveaxis(rows, -1, axis)


def _refuse_complex_order(op, input):
    """PyTorch's error for sorting (``op`` "Sort" or "topk") complex numbers, which have no order."""
    if input._data.dtype.kind == "c":
        raise RuntimeError(f" {op} does not support complex dtypes on CPU")


def _sorted_along(input, dim, descending, stable=True):
    """(sorted values, indices) along ``dim``; 0-d inputs are sorted as one element."""
    d = wrap_dim(dim, input.ndim)
    _refuse_complex_order("Sort", input)
    source = input if input.ndim else input.reshape(1)
    indices = _sort_indices(source._data, d, descending, stable).astype(_INT64, copy=False)
    values = TakeAlongDim.apply(source, indices, d)
    if input.ndim == 0:
        return values.reshape(()), indices.reshape(())
    return values, indices


@tensor_method
@composite("sort")   # seen whole at dispatch: its indices come from the data
@keeps_layout
def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    """(values, indices) of ``input`` sorted along ``dim``, NaN as the largest; equal values keep their order with
    ``stable=True``, else take PyTorch's CPU order for them."""
    if descending is not True and descending is not False:
        argument_error()   # PyTorch's parser refuses it (sort(0, 'a'))
        raise TypeError(f"sort(): descending must be a bool, not {type(descending).__name__}")
    values, indices = _sorted_along(input, dim, descending, stable)
    indices = _make(indices)
    return write_tuple(out, _sort(keep_versions(name_node(values, "SortBackward0", (input,)), indices), indices),
                       exact=True)


@tensor_method
@composite("argsort")   # seen whole at dispatch: its indices come from the data
def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort ``input`` along ``dim``."""
    d = wrap_dim(dim, input.ndim)
    _refuse_complex_order("Sort", input)
    if input.ndim == 0:
        return _make(xp_of(input._data).zeros((), _INT64))
    return _make(_sort_indices(input._data, d, descending, stable).astype(_INT64, copy=False))


@tensor_method
def msort(input, *, out=None):
    """``input`` sorted along its first dim (values only)."""
    return write_out(out, sort(input, 0).values, "msort")


def _top_indices(array, axis, k, largest):
    """int64 indices of the ``k`` largest (or smallest) elements along ``axis`` in sorted order (NaN largest, equal
    values by index); past half the axis, the first ``k`` of a full stable sort."""
    n, xp = array.shape[axis], xp_of(array)
    if array.dtype.kind not in "iuf" or xp is not numpy or not 0 < k <= n // 2 or not array.size:
        order = _sort_indices(array, axis, largest).astype(_INT64, copy=False)
        return xp.ascontiguousarray(order[(slice(None),) * axis + (slice(k),)])
    moved = numpy.moveaxis(array, axis, -1)
    if axis != array.ndim - 1:   # NumPy partitions and gathers along a strided axis several times slower
        moved = _parallel.assign(numpy.empty(moved.shape, array.dtype), moved)
    rows = moved.reshape(-1, n)
    found = _candidates(rows, k, largest)
    chosen = _partitioned(rows if found is None else numpy.take_along_axis(rows, found, 1), k, largest)
    if found is not None:
        chosen = numpy.take_along_axis(found, chosen, 1)
    chosen.sort(axis=1)   # the stable sort below then orders equal values by index
    order = _sort_indices(numpy.take_along_axis(rows, chosen, 1), 1, largest)
    chosen = numpy.take_along_axis(chosen, order, 1).astype(_INT64, copy=False)
    return numpy.ascontiguousarray(numpy.moveaxis(chosen.reshape(moved.shape[:-1] + (k,)), -1, axis))


def _partitioned(rows, k, largest):
    """Indices in each row of its ``k`` largest (or smallest) values, in no particular order."""
    n = rows.shape[1]
    if largest:
        return numpy.argpartition(rows, n - k, axis=1)[:, n - k:]
    return numpy.argpartition(rows, k - 1, axis=1)[:, :k]


def _candidates(rows, k, largest):
    """Indices in each row of a subset holding its ``k`` largest (smallest) values, about 2 sqrt(k n) of its n; None
    where that is not much less than n.

    The first ``depth * groups`` positions form ``groups`` strided groups (position i in group i % groups): the k
    groups with the largest maxima hold k values at least as large as any value outside them, so those groups and
    the positions after them suffice.
    """
    count, n = rows.shape
    groups = math.isqrt(k * n)   # k n / groups candidates in the groups, under groups after them: fewest here
    if 4 * groups > n:
        return None
    depth = n // groups
    # fmin skips NaN (which counts as largest), so a group's NaN does not hide its small values
    extreme = numpy.maximum if largest else numpy.fmin
    keys = extreme.reduce(rows[:, :depth * groups].reshape(count, depth, groups), axis=1)
    members = _partitioned(keys, k, largest)[:, :, None] + groups * numpy.arange(depth)
    rest = numpy.broadcast_to(numpy.arange(depth * groups, n), (count, n - depth * groups))
    return numpy.concatenate([members.reshape(count, k * depth), rest], axis=1)


def _topk_ties(array, indices, axis, k, largest):
    """``indices`` (the top ``k`` with ties by index) with each row whose choice or order depends on equal values
    replaced by what PyTorch's CPU kernel picks (``std::partial_sort`` or ``std::nth_element``, ``_std_sort``)."""
    n = array.shape[axis]
    if n > _std_sort.LIMIT:
        return indices
    rows = numpy.moveaxis(array, axis, -1)
    chosen = numpy.moveaxis(indices, axis, -1)
    picked = numpy.take_along_axis(rows, chosen, -1)
    nan_aware = rows.dtype.kind == "f" or rows.dtype.name == "bfloat16"

    def equal(x, y):
        return (x == y) | ((x != x) & (y != y)) if nan_aware else x == y
    edge = picked[..., -1:]
    tied = equal(picked[..., 1:], picked[..., :-1]).any(-1) | \
        (equal(rows, edge).sum(-1) > equal(picked, edge).sum(-1))
    if not tied.any() or int(tied.sum()) * n > _std_sort.BUDGET:
        return indices
    chosen = chosen.copy()
    for where in numpy.ndindex(tied.shape):
        if tied[where]:
            values = rows[where].astype(float).tolist() if rows.dtype.name == "bfloat16" else rows[where].tolist()
            chosen[where] = _std_sort.std_topk_order(values, k, largest, nan_aware)
    return numpy.ascontiguousarray(numpy.moveaxis(chosen, -1, axis))


@tensor_method
@composite("topk")   # seen whole at dispatch: its indices come from the data
def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """(values, indices) of the ``k`` largest (or smallest) elements along ``dim``, in sorted order."""
    d = wrap_dim(dim, input.ndim)
    size = input.shape[d] if input.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    _refuse_complex_order("topk", input)
    if input.dtype is _dtype.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    source = input if input.ndim else input.reshape(1)
    count = k if input.ndim else 1   # PyTorch returns the element of a 0-d input for k=0 too
    indices = _top_indices(source._data, d, count, largest)
    if sorted and xp_of(indices) is numpy and count:
        indices = _topk_ties(source._data, indices, d, count, largest)
    values = TakeAlongDim.apply(source, indices, d)
    if input.ndim == 0:
        values, indices = values.reshape(()), indices.reshape(())
    indices = _make(indices)
    return write_tuple(out, _topk(keep_versions(name_node(values, "TopkBackward0", (input,)), indices), indices),
                       exact=True)


def _kth_ties(array, indices, axis, k):
    """``indices`` (the first of equal k-th values) with each row whose k-th value is tied replaced by the one
    PyTorch's CPU quickselect reports (``_std_sort.quick_select_index``)."""
    rows = numpy.moveaxis(array, axis, -1)
    chosen = numpy.moveaxis(indices, axis, -1)
    kth = numpy.take_along_axis(rows, chosen, -1)
    nan_aware = rows.dtype.kind == "f" or rows.dtype.name == "bfloat16"
    same = (rows == kth) | ((rows != rows) & (kth != kth)) if nan_aware else rows == kth
    tied = same.sum(-1) > 1
    if not tied.any() or int(tied.sum()) * rows.shape[-1] > _std_sort.BUDGET:
        return indices
    chosen = chosen.copy()
    for where in numpy.ndindex(tied.shape):
        if tied[where]:
            values = rows[where].astype(float).tolist() if rows.dtype.name == "bfloat16" else rows[where].tolist()
            chosen[where] = _std_sort.quick_select_index(values, k - 1, nan_aware)
    return numpy.moveaxis(chosen, -1, axis)


@tensor_method
@composite("kthvalue")   # seen whole at dispatch: its indices come from the data
def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """(values, indices) of the ``k``-th smallest element (1-based) along ``dim``."""
    keepdim_arg("kthvalue", keepdim)
    k = int_arg(k)
    d = wrap_dim(dim, input.ndim)
    refuse_complex_selection("kthvalue_cpu", "kthvalue", input)
    if input.dtype is _dtype.bool_:
        raise _not_implemented("kthvalue_cpu", input)
    if input.ndim:
        _check_nonempty_dims("kthvalue():", input, (d,))
    size = input.shape[d] if input.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    source = input if input.ndim else input.reshape(1)
    xp = xp_of(source._data)
    order = _sort_indices(source._data, d, False)
    indices = xp.take(order, xp.asarray([k - 1]), axis=d).astype(_INT64, copy=False)
    if xp is numpy and source.shape[d] <= _std_sort.LIMIT:
        indices = _kth_ties(source._data, indices, d, k)
    values = TakeAlongDim.apply(source, indices, d)
    if not keepdim or input.ndim == 0:
        shape = tuple(s for i, s in enumerate(input.shape) if i != d)
        values, indices = values.reshape(shape), indices.reshape(shape)
    indices = _make(indices)
    return write_tuple(out, _kthvalue(keep_versions(name_node(values, "KthvalueBackward0", (input,)), indices),
                                      indices), "kthvalue")


# --- unique ----------------------------------------------------------------------------------------------------
def _unique_result(values, inverse, counts, return_inverse, return_counts):
    results = (values,) + ((inverse,) if return_inverse else ()) + ((counts,) if return_counts else ())
    return results[0] if len(results) == 1 else results


def _rows_along(array, dim):
    """The slices of ``array`` along ``dim`` as the rows of a 2-d array (for unique with ``dim``)."""
    xp = xp_of(array)
    moved = xp.moveaxis(array, dim, 0)
    if 0 in moved.shape[1:]:
        raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique cannot be applied")
    return moved.reshape(moved.shape[0], math.prod(moved.shape[1:])), moved.shape


def _from_rows(rows, moved_shape, dim):
    xp = xp_of(rows)
    return xp.moveaxis(rows.reshape((rows.shape[0],) + moved_shape[1:]), 0, dim)


COUNTING_SPAN = 2
"""Integers whose range spans at most this many values per element (or ``COUNTING_MIN_SPAN``) are made unique by
counting: a bincount, its running total for the inverse (1M int64 in [0, 1e6): 112 -> 12 ms; a sort: 55 ms)."""
COUNTING_MIN_SPAN = 1 << 12


def _unique_by_counting(xp, flat, return_inverse, return_counts):
    """[values, inverse if asked, counts if asked] of integers or bools ``flat`` over a narrow range, by counting;
    None otherwise."""
    if flat.dtype.kind not in "biu" or flat.size == 0:
        return None
    low, high = int(flat.min()), int(flat.max())
    span = high - low + 1
    if span > max(COUNTING_SPAN * flat.size, COUNTING_MIN_SPAN):
        return None
    wide = numpy.uint64 if flat.dtype == numpy.uint64 else numpy.int64   # holds every offset and ``low`` itself
    offsets = xp.subtract(flat, wide(low), dtype=wide).astype(numpy.intp, copy=False)
    counts = xp.bincount(offsets, minlength=span)
    present = counts > 0
    found = [xp.flatnonzero(present).astype(flat.dtype) + flat.dtype.type(low)]   # wraps back into range
    if return_inverse:
        found.append((xp.cumsum(present) - 1).take(offsets))
    return found + [counts[present]] if return_counts else found


@tensor_method
@composite("unique")   # its size comes from the data: seen whole, so traces record it
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct elements in ascending order (or distinct slices along ``dim``), optionally with the inverse
    mapping and the counts."""
    if not all(flag is True or flag is False for flag in (sorted, return_inverse, return_counts)) or (
            dim is not None and dim.__class__ is not int):
        # torch.unique hands its arguments to _unique2 (or unique_dim), the flags by keyword: those ops' errors
        from .. import _arg_parser   # (loaded on errors only)
        _arg_parser.raise_for("_VF._unique2" if dim is None else "_VF.unique_dim", (input,) if dim is None else
                              (input, dim), {"sorted": sorted, "return_inverse": return_inverse,
                                             "return_counts": return_counts})
    refuse_complex("unique" if dim is None else "unique_dim", input)
    _meta.refuse_data_dependent("_unique2" if dim is None else "unique_dim", input)
    xp = xp_of(input._data)
    if dim is None:   # only what is asked for: NumPy's inverse takes a stable argsort, the values alone a sort
        flat = input._data.reshape(-1)
        found = _unique_by_counting(xp, flat, return_inverse, return_counts)
        if found is None:
            found = xp.unique(flat, return_inverse=return_inverse, return_counts=return_counts,
                              equal_nan=False)   # every NaN is distinct, as in torch
            found = list(found) if isinstance(found, tuple) else [found]
        values = found.pop(0)
        inverse = _make(found.pop(0).reshape(input.shape).astype(_INT64)) if return_inverse else None
        counts = _make(found.pop(0).astype(_INT64)) if return_counts else None
        return _unique_result(_make(values), inverse, counts, return_inverse, return_counts)
    d = wrap_dim(dim, input.ndim)
    rows, moved_shape = _rows_along(input._data, d)
    if rows.shape[0] == 0:
        values, inverse, counts = input._data, xp.zeros(0, _INT64), xp.zeros(0, _INT64)
    else:
        # Lexicographic order of the rows: sort by the last column first, stably, up to the first.
        order = xp.lexsort(rows.T[::-1])
        ordered = rows[order]
        starts = xp.concatenate([xp.ones(1, bool), (ordered[1:] != ordered[:-1]).any(axis=1)])
        group = xp.cumsum(starts) - 1
        inverse = xp.empty(rows.shape[0], _INT64)
        inverse[order] = group
        values = _from_rows(ordered[starts], moved_shape, d)
        counts = xp.diff(xp.append(xp.flatnonzero(starts), rows.shape[0])).astype(_INT64)
    return _unique_result(_make(values), _make(inverse), _make(counts), return_inverse, return_counts)


@tensor_method
@composite("unique_consecutive")   # seen whole at dispatch: its sizes come from the data
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapses runs of equal consecutive elements (or slices along ``dim``) into one."""
    if not all(flag is True or flag is False for flag in (return_inverse, return_counts)):
        from .. import _arg_parser   # (loaded on errors only) passed on by keyword, as PyTorch's Python form does
        _arg_parser.raise_for("_VF.unique_consecutive", (input,), {"return_inverse": return_inverse,
                                                                  "return_counts": return_counts, "dim": dim})
    refuse_complex("unique", input)
    _meta.refuse_data_dependent("unique_consecutive", input)
    xp = xp_of(input._data)
    if dim is None:
        rows, moved_shape, d = input._data.reshape(-1, 1), (input._data.size,), None
    else:
        if dim.__class__ is not int:   # PyTorch's unique_consecutive passes its arguments on by keyword
            from .. import _arg_parser   # (loaded on errors only)
            _arg_parser.raise_for("_VF.unique_consecutive", (input,), {"return_inverse": return_inverse,
                                                                       "return_counts": return_counts, "dim": dim})
        d = wrap_dim(dim, input.ndim)
        rows, moved_shape = _rows_along(input._data, d)
    if rows.shape[0] == 0:
        starts = xp.zeros(0, bool)
    else:
        starts = xp.concatenate([xp.ones(1, bool), (rows[1:] != rows[:-1]).any(axis=1)])
    kept = rows[starts]
    values = kept.reshape(-1) if d is None else _from_rows(kept, moved_shape, d)
    inverse = (xp.cumsum(starts) - 1).astype(_INT64)
    if d is None:
        inverse = inverse.reshape(input.shape)
    counts = xp.diff(xp.append(xp.flatnonzero(starts), rows.shape[0])).astype(_INT64)
    return _unique_result(_make(values), _make(inverse), _make(counts), return_inverse, return_counts)


# --- searching sorted sequences --------------------------------------------------------------------------------
def _batched_searchsorted(sequence, values, side):
    """searchsorted of each row of ``values`` (2-d) in the matching row of ``sequence`` (2-d), vectorized: one
    lexicographic sort by (row, value, query-or-not) places every query among its row's sequence elements."""
    xp = xp_of(sequence)
    rows, length = sequence.shape
    width = length + values.shape[1]
    keys = xp.concatenate([sequence, values], axis=1).reshape(-1)
    is_query = xp.concatenate([xp.zeros(sequence.shape, bool), xp.ones(values.shape, bool)], axis=1).reshape(-1)
    row_of = xp.repeat(xp.arange(rows), width)
    # For side="left" a query sorts before equal sequence elements, for "right" after them.
    tiebreak = is_query if side == "right" else ~is_query
    order = _compat.lexsort(xp, (tiebreak, keys, row_of))
    query_slots = is_query[order]
    sequence_before = xp.cumsum(~query_slots) - row_of[order] * length
    positions = order[query_slots]
    result = xp.empty(values.shape, _INT64)
    result[positions // width, positions % width - length] = sequence_before[query_slots]
    return result


def _holds_nan(sequence):
    return (sequence.dtype.kind == "f" or sequence.dtype.name == "bfloat16") and bool(xp_of(sequence).isnan(
        sequence).any())


def _bisect(sequence, values, side):
    """PyTorch's CPU binary search of each row of ``values`` in the matching row of ``sequence`` (both 2-d), step by
    step for all queries at once: with NaN in the sequence its comparisons (false for NaN: the search goes right)
    place values where NumPy's NaN-last order does not."""
    xp = xp_of(sequence)
    start = xp.zeros(values.shape, _INT64)
    end = xp.full(values.shape, sequence.shape[1], _INT64)
    row = xp.arange(sequence.shape[0])[:, None]
    active = start < end
    while active.any():
        mid = start + ((end - start) >> 1)
        middle = sequence[row, xp.minimum(mid, sequence.shape[1] - 1)]
        right = ~(middle >= values) if side == "left" else ~(middle > values)
        start = xp.where(active & right, mid + 1, start)
        end = xp.where(active & ~right, mid, end)
        active = start < end
    return start


def _side(right, side):
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        return side
    return "right" if right else "left"


@composite("searchsorted")   # seen whole at dispatch: computed on the arrays
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None, out=None):
    """Indices where ``input`` values would be inserted into the innermost dim of ``sorted_sequence`` to keep it
    sorted."""
    side = _side(right, side)
    refuse_complex("searchsorted_out_cpu", sorted_sequence)
    refuse_complex("searchsorted_out_cpu", input)
    scalar = not isinstance(input, Tensor)
    values = xp_of(sorted_sequence._data).asarray(input, dtype=sorted_sequence._data.dtype) if scalar \
        else input._data
    sequence = sorted_sequence._data
    if sorter is not None:
        if sorter.shape != sorted_sequence.shape:
            raise RuntimeError("torch.searchsorted(): boundary and sorter must have the same size, but got boundary "
                               f"tensor {list(sorted_sequence.shape)} and got sorter tensor {list(sorter.shape)}")
        sequence = xp_of(sequence).take_along_axis(sequence, sorter._data.astype(_INT64), axis=-1)
    if sequence.ndim > 1 and (scalar or sequence.shape[:-1] != values.shape[:-1]):
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions "
                           "of boundaries tensor and input value tensor must match, but we got boundaries tensor "
                           f"{list(sorted_sequence.shape)} and input value tensor "
                           f"{list(values.shape) if not scalar else []}")
    xp = xp_of(sequence)
    if _holds_nan(sequence):
        rows = sequence.reshape(-1, sequence.shape[-1] if sequence.ndim else 1)
        result = _bisect(rows, values.reshape(rows.shape[0] if sequence.ndim > 1 else 1, -1), side)
        result = result.reshape(values.shape)
    elif sequence.ndim <= 1:
        result = xp.searchsorted(sequence.reshape(-1), values, side=side)
    else:
        flat = _batched_searchsorted(sequence.reshape(-1, sequence.shape[-1]), values.reshape(-1, values.shape[-1]),
                                     side)
        result = flat.reshape(values.shape)
    return write_out(out, _make(xp.asarray(result).astype(numpy.int32 if out_int32 else _INT64)), "searchsorted")


@composite("bucketize")   # seen whole at dispatch: computed on the arrays
def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """Index of the bucket of 1-d ``boundaries`` each element falls in (``right`` puts equal values above)."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)
