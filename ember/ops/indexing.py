"""Indexing: ``tensor[key]`` and ``tensor[key] = value`` with PyTorch's (NumPy's) semantics, and the index ops
(index_select, index_add, masked_fill, take, nonzero, ...) with their gradients; gather and scatter are in
``gather_scatter``.

Basic indexing (ints, slices, None, Ellipsis) gives views; indexing with tensors, lists or bools gives copies.
"""
import math

import numpy

from .. import _compat, _dtype, _meta
from .._backend import xp_of
from .._tensor import Tensor, _make
from .._warnings import warn
from ..autograd._saved import keep_versions
from ..autograd.function import Primitive, composite, dispatch_hooks
from ..autograd.grad_mode import state
from ._index_keys import (
    check_broadcast,
    check_range,
    holds_bytes,
    index_array,
    index_int,
    normalize_key,
    outside_range,
    selects,
    sequence_key,
)
from ._inplace import OVERLAP_MESSAGE, assign_inplace, check_inplace_allowed, inplace_method, overlaps, writeable
from ._kernel_dtypes import cpp_type_name, real_scalar, refuse_complex_autograd, wrapped_scalar
from ._util import argument_error, name_node, tensor_method, wrap_dim, write_out
from .dim_order import iteration_order
from .gather_scatter import gather
from .rearrange import broadcast_tensors
from .shape import expand, reshape, sliced, view

__all__ = [
    "argwhere",
    "as_strided_scatter",
    "diagonal_scatter",
    "index_add",
    "index_copy",
    "index_fill",
    "index_put",
    "index_put_",
    "index_select",
    "masked_fill",
    "masked_scatter",
    "masked_select",
    "nonzero",
    "nonzero_static",
    "put",
    "select_scatter",
    "slice_scatter",
    "take",
    "take_along_dim",
]

def advanced_key(key):
    """A (basic, advanced) key for a NumPy index tuple of index arrays and full slices."""
    return (Ellipsis,), key


def _read(a, key):
    basic, advanced = key
    view = a[basic]
    if advanced is None:
        return view
    try:
        return view[advanced]
    except (IndexError, ValueError) as error:   # CuPy raises ValueError where NumPy raises IndexError
        raise _index_error(error, advanced) from None


def _index_error(error, advanced):
    """PyTorch's IndexError where the index arrays of ``advanced`` do not broadcast together; other errors as
    they are."""
    try:
        check_broadcast([index for index in advanced if hasattr(index, "shape")])
    except IndexError as mismatch:
        return mismatch
    return error


def _write(xp, out, key, value, accumulate):
    basic, advanced = key
    target = out[basic]
    if advanced is None:
        if accumulate:
            target += value
        else:
            target[...] = value
        return
    try:
        if accumulate:
            if xp is not numpy or not _add_at_flat(target, advanced, value):
                _compat.ufunc_at(xp, "add", target, advanced, value)
        else:
            target[advanced] = value
    except (IndexError, ValueError) as error:
        raise _index_error(error, advanced) from None


_FLAT_AT_LEAST = 2048   # added elements; below this the flat index costs more than it saves (10 us at 1,024)


def _add_at_flat(target, advanced, value):
    """``numpy.add.at(target, advanced, value)`` as one 1-D ``add.at`` on the flattened target at each element's
    flat index, when ``advanced`` is one integer index array among full slices: the same additions in the same
    order (for each target element, its values in index order: add.at visits a 1-D or C-contiguous index in C
    order), 3-4x faster for whole rows (NumPy's fast path is 1-D). Returns False, doing nothing, otherwise."""
    arrays = [position for position, item in enumerate(advanced)
              if not isinstance(item, slice) and item is not Ellipsis]
    if target.ndim < 2 or not target.flags.c_contiguous or len(arrays) != 1:
        return False
    dim = arrays[0]
    index = advanced[dim]
    if not isinstance(index, numpy.ndarray) or index.dtype.kind != "i" or \
            index.ndim > 1 and not index.flags.c_contiguous:   # add.at visits other layouts in memory order
        return False
    full = slice(None)
    if not all(isinstance(item, slice) and item == full for item in advanced[:dim]) or \
            not all(item is Ellipsis or isinstance(item, slice) and item == full for item in advanced[dim + 1:]):
        return False
    shape = target.shape
    outer, inner = math.prod(shape[:dim]), math.prod(shape[dim + 1:])
    if index.size * outer * inner < _FLAT_AT_LEAST:
        return False
    size = shape[dim]
    rows = index.reshape(-1)
    if rows.min() < 0:
        rows = numpy.where(rows < 0, rows + size, rows)
    kind = numpy.int32 if target.size < 2 ** 31 else numpy.int64   # half the memory to fill
    rows = rows.astype(kind)
    if outer > 1:
        rows = (numpy.arange(0, outer * size, size, dtype=kind).reshape(-1, 1) + rows).reshape(-1)
    flat = (rows.reshape(-1, 1) * kind(inner) + numpy.arange(inner, dtype=kind)).reshape(-1) if inner > 1 else rows
    if numpy.ndim(value):
        result = shape[:dim] + index.shape + shape[dim + 1:]
        value = (value if value.shape == result else numpy.broadcast_to(value, result)).reshape(-1)
    numpy.add.at(target.reshape(-1), flat, value)
    return True


# --- reading ---------------------------------------------------------------------------------------------------------
def _index_layout(xp, out, a, key):
    """``out`` (NumPy's ``a[key]`` for an advanced key) laid out as PyTorch's ``index`` lays out its result: its
    TensorIterator orders the result's dims by the strides of the indexed tensor (restrided: 0 along the index
    dims) and then of the index tensors (broadcast to the index shape), so ``x[:, mask]`` of a row-major ``x`` is
    row-major where NumPy's result is transposed (and ``view(-1)`` of it fails)."""
    basic, advanced = key
    if advanced is None or out.ndim < 2 or out.size < 2:
        return out
    view = a[basic]
    if view.flags.c_contiguous and _row_major(out) and _one_dim_adjacent(advanced):
        return out   # the common case: the indexed tensor's order decides, and it is row-major
    view_strides = list(view.strides)
    new_dims, dim = [], 0   # None's dims: PyTorch's unsqueeze strides them as the dim after them, NumPy with 0
    for item in basic:
        if item is None:
            new_dims.append(dim)
        if item is Ellipsis:
            dim += a.ndim - sum(1 for i in basic if i is not None and i is not Ellipsis)
        elif not isinstance(item, int):
            dim += 1
    for dim in reversed(new_dims):
        view_strides[dim] = view.shape[dim + 1] * view_strides[dim + 1] if dim + 1 < view.ndim else view.itemsize
    items, dim = [], 0   # (first view dim, dims used, array or None for a full slice)
    for item in advanced:
        if item is Ellipsis:
            rest = view.ndim - sum(i.ndim if getattr(i, "dtype", None) is not None and i.dtype.kind == "b" else
                                   (0 if i is Ellipsis else 1) for i in advanced)
            items.extend((dim + k, 1, None) for k in range(rest))
            dim += rest
        elif isinstance(item, slice):
            items.append((dim, 1, None))
            dim += 1
        else:
            used = item.ndim if item.dtype.kind == "b" else 1
            items.append((dim, used, item))
            dim += used
    items.extend((d, 1, None) for d in range(dim, view.ndim))
    arrays = [position for position, item in enumerate(items) if item[2] is not None]
    rank = out.ndim - (len(items) - len(arrays))   # dims of the broadcast index shape
    adjacent = arrays == list(range(arrays[0], arrays[-1] + 1))
    before = items[:arrays[0]] if adjacent else []
    after = [item for item in items[len(before):] if item[2] is None]
    index_shape = out.shape[len(before):len(before) + rank]
    source = [view_strides[d] for d, _, _ in before] + [0] * rank + [view_strides[d] for d, _, _ in after]
    operands = [source]
    for position in arrays:
        array = items[position][2]
        if array.dtype.kind == "b":   # PyTorch indexes with the columns of the mask's nonzero(): 1-d each
            column = [0] * (len(before) + rank - 1) + [array.ndim * 8] + [0] * len(after)
            operands.extend([column] * array.ndim)
            continue
        padded = [0] * (rank - array.ndim) + [stride if size != 1 or index_shape[rank - array.ndim + j] == 1 else 0
                                              for j, (size, stride) in enumerate(zip(array.shape, array.strides))]
        operands.append([0] * len(before) + padded + [0] * len(after))
    order = iteration_order(out.shape, operands)[::-1]   # slowest first
    strides, step = [0] * out.ndim, out.itemsize   # PyTorch's allocation: row-major in that order
    for dim in reversed(order):
        strides[dim] = step
        step *= out.shape[dim]
    if list(out.strides) == strides:
        return out
    laid = xp.empty([out.shape[dim] for dim in order], out.dtype)
    laid[...] = out.transpose(order)
    return laid.transpose(numpy.argsort(order))


def _row_major(array):
    """Whether ``array``'s strides are exactly row-major ones (NumPy's contiguity flag lets size-1 dims differ)."""
    step = array.itemsize
    for size, stride in zip(reversed(array.shape), reversed(array.strides)):
        if stride != step:
            return False
        step *= size
    return True


def _one_dim_adjacent(advanced):
    """Whether an advanced key's index arrays are 1-d (or masks) and next to each other: they then never decide
    the result's order."""
    seen = gap = False
    for item in advanced:
        if hasattr(item, "dtype"):
            if gap or item.ndim > 1 and item.dtype.kind != "b":
                return False
            seen = True
        elif seen:
            gap = True
    return True


def _keep_index_versions(result, key):
    """Has the backward of ``result``'s node refuse the index tensors of ``key`` once changed in place (its key holds
    their arrays), as PyTorch's version check on the indices it saves."""
    tensors = [k for k in (key if isinstance(key, tuple) else (key,)) if isinstance(k, Tensor) and not selects(k)]
    return keep_versions(result, *tensors)


class Index(Primitive):
    """Advanced indexing ``a[key]`` (a copy, laid out as PyTorch's)."""

    @staticmethod
    def forward(ctx, a, key):
        ctx.shape, ctx.key = a.shape, key
        return _index_layout(ctx.xp, _read(a, key), a, key)

    @staticmethod
    def backward(ctx, grad):
        return IndexAccumulate.apply(grad, ctx.shape, ctx.key)


class IndexAccumulate(Primitive):
    """Zeros of ``shape`` with ``grad`` summed in at ``key`` (repeated positions add up): the adjoint of Index."""

    @staticmethod
    def forward(ctx, grad, shape, key):
        ctx.key = key
        out = ctx.xp.zeros(shape, grad.dtype)
        _write(ctx.xp, out, key, grad, True)
        return out

    @staticmethod
    def backward(ctx, grad):
        return Index.apply(grad, ctx.key)


def _getitem(self, key):
    """``self[key]``: a view for ints, slices, None and Ellipsis; a copy when tensors, lists or bools index."""
    if type(key) is int and self._data.ndim and -self._data.shape[0] <= key < self._data.shape[0]:
        if not (self.requires_grad and state.enabled):   # the per-sample path of every DataLoader
            return _make(self._data[key, ...], base=self)   # [key, ...]: a 0-d array, not a NumPy scalar
        return name_node(sliced(self, (key, Ellipsis)), "SelectBackward0")
    key = sequence_key(key)
    items, advanced = normalize_key(self, key)
    if advanced is None:
        view = sliced(self, items)
        if view.grad_fn is not None:
            name = _view_node_name(items, self._data.shape, not isinstance(key, tuple))
            if name != "SliceBackward0":
                name_node(view, name)
        return view
    return _keep_index_versions(Index.apply(self, (items, advanced)), key)


def _view_node_name(items, shape, single):
    """PyTorch's node name for the view ``self[key]`` (``items``: its basic key): the last op PyTorch's indexing
    applies, left to right — select for an int, unsqueeze for None, slice for a slice other than the whole dim (a
    lone slice always slices) — or alias when none applies."""
    if single and isinstance(items[0], slice):
        return "SliceBackward0"
    name, dim = "AliasBackward0", 0
    for item in items:
        if item is Ellipsis:
            dim += len(shape) - sum(1 for i in items if i is not None and i is not Ellipsis)
        elif item is None:
            name = "UnsqueezeBackward0"
        elif isinstance(item, int):
            name, dim = "SelectBackward0", dim + 1
        else:
            if item.indices(shape[dim]) != (0, shape[dim], 1):
                name = "SliceBackward0"
            dim += 1
    return name


_getitem.__name__, _getitem.__qualname__ = "__getitem__", "Tensor.__getitem__"   # what handlers see, as PyTorch's
Tensor.__getitem__ = composite("getitem")(_getitem)


# --- writing ---------------------------------------------------------------------------------------------------------
class IndexPut(Primitive):
    """``a`` with ``value`` written (or added, with ``accumulate``) at ``key``."""

    @staticmethod
    def forward(ctx, a, value, key, accumulate):
        ctx.key, ctx.accumulate = key, accumulate
        out = a.copy(order="K")   # laid out as a, as PyTorch's clone(preserve_format)
        _write(ctx.xp, out, key, value, accumulate)
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_a = grad_value = None
        if ctx.needs_input_grad[0]:
            grad_a = grad if ctx.accumulate else IndexPut.apply(grad, 0, ctx.key, False)
        if ctx.needs_input_grad[1]:
            grad_value = Index.apply(grad, ctx.key)
        return grad_a, grad_value


def _assignable_number(value):
    """Whether ``self[key] = value`` takes ``value`` as a number, as PyTorch's: Python's float, bool and complex (and
    their subclasses, NumPy's float64), or an integer (``__index__``: NumPy's integers, not its bool)."""
    return isinstance(value, (float, bool, complex, int)) or (
        hasattr(type(value), "__index__") and not isinstance(value, (numpy.ndarray, numpy.bool_)))


def _setitem_number(self, value):
    """What ``self[key] = value`` writes for a ``value`` that is not a tensor: the number as a NumPy scalar of self's
    dtype, checked before the key as PyTorch's: its TypeError for what is not a number (a list, tuple or array), its
    ValueError for an integer beyond int64 (unpacked as a C++ long long), its RuntimeError for a value self's dtype
    cannot hold."""
    if not _assignable_number(value):
        kind = type(value)
        name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
        raise TypeError(f"can't assign a {name} to a {self.type()}")
    if not isinstance(value, (bool, float, complex)):
        index_int(value.__index__())
    with numpy.errstate(over="ignore"):
        return self._data.dtype.type(wrapped_scalar(value, self.dtype))


def _indexed_shape(a, key):
    """The shape of ``a[key]``; where an index is out of range (its check deferred), NumPy's rule for it without
    reading: the index arrays' broadcast shape in place of their dims where they are next to each other, first
    otherwise."""
    try:
        return _read(a, key).shape
    except IndexError:
        pass
    basic, advanced = key
    shape = a[basic].shape
    used = sum(0 if item is Ellipsis else item.ndim if getattr(item, "dtype", None) == bool else 1 for item in advanced)
    out, indices, first, last, separated, dim = [], [], None, None, False, 0
    for item in advanced:
        if item is Ellipsis:
            out.extend(shape[dim:dim + len(shape) - used])
            dim += len(shape) - used
        elif isinstance(item, slice):
            out.append(len(range(*item.indices(shape[dim]))))
            dim += 1
        else:
            separated = separated or last is not None and last != len(out)
            first = len(out) if first is None else first
            last = len(out)
            indices.append((int(item.sum()),) if item.dtype == bool else item.shape)
            dim += item.ndim if item.dtype == bool else 1
    out.extend(shape[dim:])
    broadcast = numpy.broadcast_shapes(*indices)
    return broadcast + tuple(out) if separated else tuple(out[:first]) + broadcast + tuple(out[first:])


def _value_for(self, value, key, setitem=True, arrays=True):
    """``value`` as something that can be written at ``key`` of self: self's dtype, broadcastable. ``self[key] =``
    takes a tensor or a number (``_setitem_number``'s already). A value that does not fit raises index_put_'s
    message, or copy_'s where the key has no ``arrays`` (PyTorch's x[True] = value copies into x[None])."""
    if not isinstance(value, Tensor):
        if setitem:
            return value
        if isinstance(value, (list, tuple, numpy.ndarray)):
            from .creation import tensor
            value = tensor(value, dtype=self.dtype, device=self.device)
        else:
            with numpy.errstate(over="ignore"):
                return self._data.dtype.type(wrapped_scalar(value, self.dtype))
    if value.dtype is not self.dtype:
        value = value.to(self.dtype)
    target = _indexed_shape(self._data, key) if value.ndim else ()
    if value.ndim:
        while value.ndim and value.shape[0] == 1:   # PyTorch drops a value's leading 1s (slicePrefix1sDims)
            value = reshape(value, value.shape[1:])
        if key[1] is not None and arrays and (value.ndim > len(target) or any(
                v not in (1, t) for v, t in zip(value.shape[::-1], target[::-1]))):
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(value.shape)} cannot be broadcast to "
                               f"indexing result of shape {list(target)}")
        expand(value, target)   # PyTorch's RuntimeError when value does not broadcast
    return value


def _array_indices(key):
    """The items of a ``self[key] = value`` key that index by array: lists, and tensors or arrays other than 0-d
    numbers."""
    items = key if isinstance(key, tuple) else (key,)
    return [k for k in items if isinstance(k, list) or isinstance(k, (Tensor, numpy.ndarray)) and (
        k.ndim or holds_bytes(k) or (k.dtype is _dtype.bool_ if isinstance(k, Tensor) else k.dtype == bool))]


def _refuse_leaf_write(key):
    """PyTorch's error for ``self[key] = value`` with array indices on a leaf that requires grad, raised before the
    key is checked: it names the view the key's other items make first (ints, None, bools, 0-d masks, slices other
    than the whole dim), or the leaf itself."""
    items = key if isinstance(key, tuple) else (key,)
    arrays = [index for index in _array_indices(key) if getattr(index, "ndim", 1)]   # 0-d masks make views
    view = any(all(item is not index for index in arrays) and item is not Ellipsis and not (
        isinstance(item, slice) and item == slice(None)) for item in items)
    raise RuntimeError(f"a {'view of a ' if view else ''}leaf Variable that requires grad is being used in an in-place "
                       "operation.")


def _masked_fill_path(self, key, value, accumulate=False):
    """Whether PyTorch writes ``value`` at ``key`` with masked_fill_ (one element through a single mask, before the
    key is read any further), raising that path's errors: a uint8 mask, a complex value with an imaginary part."""
    masks = _array_indices(key)
    if len(masks) != 1 or accumulate or isinstance(value, Tensor) and value.numel() != 1 or not _is_mask(masks[0]):
        return False
    if holds_bytes(masks[0]):
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype unsigned char")
    if isinstance(value, Tensor) and value.dtype.is_complex and not self.dtype.is_complex:
        real_scalar(value.item(), self.dtype)   # raises for an imaginary part
    return True


def _check_put_dtype(self, key, value, accumulate=False):
    """PyTorch's index_put_ (``self[key] = value`` with tensor or list indices) takes a tensor value of self's dtype
    only, except on the masked_fill path; basic keys cast as copy_ does."""
    if not isinstance(value, Tensor) or value.dtype is self.dtype or not _array_indices(key) or \
            _masked_fill_path(self, key, value, accumulate):
        return
    raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                       f"{_dtype.scalar_type_name(self.dtype)} for the destination and "
                       f"{_dtype.scalar_type_name(value.dtype)} for the source.")


def _is_mask(index):
    """Whether the tensor, array or sequence ``index`` is a mask of one dim or more (bool or uint8)."""
    if isinstance(index, Tensor):
        return index.ndim > 0 and index.dtype in (_dtype.bool_, _dtype.uint8)
    array = numpy.asarray(index)
    return array.ndim > 0 and (array.dtype == bool or array.dtype == numpy.uint8)


@composite("setitem")   # seen whole at dispatch: a trace records the key's tensors as inputs, not as constants
def _written(self, key, value):
    """A copy of ``self`` with ``value`` written at ``key``: what ``self[key] = value`` stores, as one op."""
    if not isinstance(value, Tensor):
        value = _setitem_number(self, value)
    key = sequence_key(key)
    _masked_fill_path(self, key, value)
    deferred = []
    given_key, key = key, normalize_key(self, key, deferred)
    written = _value_for(self, value, key, arrays=given_key is not True)
    _check_put_dtype(self, given_key, value)
    for check in deferred:   # the index arrays' values last, as PyTorch's kernel reads them
        check()
    return IndexPut.apply(self, written, key, False)


_SHARED_MEMORY_MESSAGE = ("unsupported operation: some elements of the input tensor and the written-to tensor refer "
                          "to a single memory location. Please clone() the tensor before performing the operation.")


def _refuse_shared_memory(data, key, value):
    """PyTorch's error for ``self[key] = value`` (``data``: self's array) where the value's memory overlaps the
    part of self written: partly, for a basic key (a copy_; the value as broadcast to it, where expanded dims make it
    too hard to tell), or at all, for an advanced key (index_put_)."""
    if type(data) is not numpy.ndarray or type(value) is not numpy.ndarray or not numpy.may_share_memory(data, value):
        return
    target = data[key[0]]
    if key[1] is None:
        value = numpy.broadcast_to(value, target.shape)
    overlap = _overlap(target, value)
    if overlap == "partial" or overlap == "full" and key[1] is not None:
        raise RuntimeError(_SHARED_MEMORY_MESSAGE)


def _overlap(a, b):
    """How the memory of NumPy arrays ``a`` and ``b`` overlaps, as PyTorch's get_overlap_status tells: "full" (the
    same elements laid out alike), "partial", or None (none, or too hard to tell: an array with gaps or repeats)."""
    if not a.size or not b.size or not _dense(a) or not _dense(b):
        return None
    a_start, b_start = a.__array_interface__["data"][0], b.__array_interface__["data"][0]
    a_end, b_end = a_start + a.nbytes, b_start + b.nbytes
    if (a_start, a_end) == (b_start, b_end) and a.shape == b.shape and all(
            x == y for x, y, size in zip(a.strides, b.strides, a.shape) if size > 1):
        return "full"
    return "partial" if a_start < b_end and b_start < a_end else None


def _dense(array):
    """Whether ``array``'s elements fill its memory span without gaps or repeats (PyTorch's
    is_non_overlapping_and_dense)."""
    step = array.itemsize
    for stride, size in sorted((stride, size) for stride, size in zip(array.strides, array.shape) if size > 1):
        if stride != step:
            return False
        step *= size
    return True


def _whole(self, key):
    """Whether the basic ``key`` selects all of self as it is (full slices, ``...``): the same shape and strides."""
    view = self._data[key[0]]
    return view.shape == self._data.shape and view.strides == self._data.strides


def _setitem(self, key, value):
    """``self[key] = value`` in place; differentiable with respect to self (non-leaf) and a tensor value."""
    if dispatch_hooks and type(self) is Tensor:   # tracing, compiling, profiling: one recorded op, then the write
        assign_inplace(self, _written(self, sequence_key(key), value))
        return
    if not isinstance(value, Tensor):   # read before the key, as PyTorch's
        value = _setitem_number(self, value)
    key = sequence_key(key)
    if key is False:   # PyTorch writes nothing, checks nothing more and leaves the version as it is
        return
    if self.requires_grad and self.grad_fn is None and state.enabled and (_array_indices(key) or any(
            isinstance(item, bool) for item in (key if isinstance(key, tuple) else (key,)))):
        _refuse_leaf_write(key)
    _masked_fill_path(self, key, value)
    deferred = []
    given_key, key = key, normalize_key(self, key, deferred)
    if key[1] is None and self.requires_grad and self.grad_fn is None and state.enabled and not _whole(self, key):
        # PyTorch writes through the view self[key], which is what it names (full slices and ... give self)
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    given, value = value, _value_for(self, value, key, arrays=given_key is not True)
    _check_put_dtype(self, given_key, given)
    for check in deferred:   # the index arrays' values last, as PyTorch's kernel reads them
        check()
    if isinstance(value, Tensor):
        if key[1] is None and type(value._data) is _meta.MetaArray and type(self._data) is not _meta.MetaArray:
            _meta.refuse_copy()   # PyTorch's copy_ has no values to copy (index_put_ takes it)
        _refuse_shared_memory(self._data, key, value._data)
    graph = state.enabled and (self.requires_grad or isinstance(value, Tensor) and value.requires_grad)
    if not graph:
        check_inplace_allowed(self)
        data = value._data if isinstance(value, Tensor) else value
        try:
            _write(xp_of(self._data), self._data, key, data, False)
        except ValueError:   # a read-only view (expanded): PyTorch writes unless the written elements overlap
            if key[1] is None and overlaps(self._data[key[0]]):
                raise RuntimeError(OVERLAP_MESSAGE) from None
            if key[1] is not None and overlaps(self._data):
                warn("Use of index_put_ on expanded tensors is deprecated. Please clone() the tensor before "
                     "performing this operation. This also applies to advanced indexing e.g. tensor[indices] = "
                     "tensor", UserWarning, stacklevel=2)
            _write(numpy, writeable(self._data, check_overlap=False), key, data, False)
        self._version_counter[0] += 1
        return
    if key[1] is None and overlaps(self._data[key[0]]):   # only the written elements must not share memory
        raise RuntimeError(OVERLAP_MESSAGE)
    result = _keep_index_versions(IndexPut.apply(self, value, key, False), given_key)
    name = _write_node_name(self, key, given_key, given)
    if name is not None:
        name_node(result, name, (self, given if isinstance(given, Tensor) else None))
    assign_inplace(self, result, overlap_ok=True)


def _write_node_name(self, key, given_key, value):
    """PyTorch's node for ``self[key] = value`` where it is not IndexPutBackward0 (index_put_ on self): fill_ or
    copy_ where a basic key selects all of self (a number or 0-d value fills), else a write into the view the key's
    basic items make (an int, None, a bool, a 0-d mask, a slice other than the whole dim), recorded as CopySlices."""
    if key[1] is None and _whole(self, key):
        return "FillBackward3" if not isinstance(value, Tensor) or not value.ndim else "torch::autograd::CopyBackwards"
    items = given_key if isinstance(given_key, tuple) else (given_key,)
    masks_0d = [item for item in items if isinstance(item, (Tensor, numpy.ndarray)) and not item.ndim and (
        holds_bytes(item) or (item.dtype is _dtype.bool_ if isinstance(item, Tensor) else item.dtype == bool))]
    if key[1] is None or not _whole(self, key) or masks_0d:   # (a 0-d mask unsqueezes self first)
        return "torch::autograd::CopySlices"
    return None


Tensor.__setitem__ = _setitem


@tensor_method
@composite("index_put", batch_inside=True)   # seen whole: a trace records the index tensors as inputs
def index_put(input, indices, values, accumulate=False):
    """A copy of ``input`` with ``values`` written (or added, with ``accumulate``) at the tensor ``indices``."""
    if not isinstance(values, Tensor) or not isinstance(indices, (tuple, list)) or \
            not all(isinstance(index, Tensor) for index in indices):
        argument_error()   # PyTorch's TypeError: a tuple of tensors and a tensor
        raise TypeError(f"index_put(): expected a tuple of Tensors and a Tensor, got {type(indices).__name__} and "
                        f"{type(values).__name__}")
    if len(indices) > input.ndim:
        raise IndexError(f"too many indices for tensor of dimension {input.ndim} (got {len(indices)})")
    _masked_fill_path(input, tuple(indices), values, accumulate)
    _check_put_dtype(input, tuple(indices), values, accumulate)
    key = normalize_key(input, tuple(indices))
    key = key if key[1] is not None else (key[0], (Ellipsis,))
    values = _value_for(input, values, key, setitem=False)
    return _keep_index_versions(IndexPut.apply(input, values, key, bool(accumulate)), tuple(indices))


inplace_method(index_put)


# --- index ops along one dim ----------------------------------------------------------------------------------------
def _dim_index(name, input, dim, index):
    """Checks an index vector for the ``index_*`` ops; returns the wrapped dim and the index as int64 array."""
    if index.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    if index.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f"{name}(): Expected dtype int32 or int64 for index")
    dim = wrap_dim(dim, input.ndim)
    array = index._data.reshape(-1).astype(numpy.int64, copy=False)
    size = input.shape[dim] if input.ndim else 1
    if name == "index_select":
        _check_select_range(input, dim, array, size)
    elif name == "index_fill" and array.size and (int(array.min()) < -size or int(array.max()) >= size):
        check_range(array, size, dim, IndexError)
    return dim, array


def _check_select_range(input, dim, array, size):
    """index_select's errors for indices outside [0, size) (negative ones included), worded as PyTorch's CPU
    kernels word them: its dim-1 kernel and its general one differ."""
    if not array.size:
        return
    outside = (array < 0) | (array >= size)
    if not outside.any():
        return
    if input.ndim > 1 and size == 0:
        raise RuntimeError("index_select(): self indexing axis dim should be positive")
    if input.ndim > 1 and dim == 1:
        raise RuntimeError(f"INDICES element is out of DATA bounds, id={int(array[outside.argmax()])} "
                           f"axis_dim={size}")
    raise IndexError("index out of range in self")


def _key(dim, index):
    return advanced_key((slice(None),) * dim + (index, Ellipsis))


class IndexSelect(Primitive):
    """The slices of ``a`` at the int64 ``index`` along ``dim`` (``take``: NumPy indexes ``a[:, index]`` ~5x
    slower)."""

    @staticmethod
    def forward(ctx, a, index, dim):
        ctx.shape, ctx.key = a.shape, _key(dim, index)
        return ctx.xp.take(a, index, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return IndexAccumulate.apply(grad, ctx.shape, ctx.key)


@tensor_method
@composite("index_select", batch_inside=True)   # seen whole: a trace records the index as an input
def index_select(input, dim, index, *, out=None):
    """The slices of ``input`` at positions ``index`` along ``dim``."""
    dim, array = _dim_index("index_select", input, dim, index)
    if input.ndim == 0 and array.size != 1:
        raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {array.size} value(s)")
    if isinstance(out, Tensor) and out.dtype is not input.dtype:
        raise RuntimeError("index_select(): self and result must have the same scalar type")
    if input.ndim == 0:
        result = reshape(Index.apply(reshape(input, 1), advanced_key((array,))), ())   # 0-d, as PyTorch
    else:
        result = IndexSelect.apply(input, array, dim)
    return write_out(out, keep_versions(result, index), "index_select")


def _check_source(name, input, dim, array, source, error=RuntimeError):
    expected = source.shape[dim] if source.ndim else 1
    if array.size != expected:
        separator = ": " if name == "index_add_" else " "
        suffix = f", for dim: {dim}" if name == "index_add_" else ""
        raise error(f"{name}(): Number of indices ({array.size}) should be equal to source.size(dim){separator}"
                    f"({expected}){suffix}")


@tensor_method
@composite("index_add", batch_inside=True)   # seen whole: a trace records the index as an input
def index_add(input, dim, index, source, *, alpha=1, out=None):
    """A copy of ``input`` with ``alpha * source`` added at positions ``index`` along ``dim``."""
    dim, array = _dim_index("index_add", input, dim, index)
    _check_source("index_add_", input, dim, array, source)
    if outside_range(input, dim, array):   # PyTorch's kernels do not wrap negative indices here
        first_or_last = input.ndim > 1 and dim in (0, input.ndim - 1) and alpha == 1 and index.dtype is _dtype.int64
        if not first_or_last:   # its slice-by-slice loop; the other path checks as index_put_ does
            raise IndexError("index out of range in self")
        check_range(array, input.shape[dim], dim, RuntimeError, negative=False)
    if source.dtype is not input.dtype:
        raise RuntimeError(f"index_add_(): self ({_dtype.scalar_type_name(input.dtype)}) and source "
                           f"({_dtype.scalar_type_name(source.dtype)}) must have the same scalar type")
    result = _put_along(input, dim, array, source if alpha == 1 else source * alpha, True)
    return write_out(out, keep_versions(name_node(result, "IndexAddBackward0", (input, source)), index), "index_add")


def _put_along(input, dim, array, source, accumulate):
    """``input`` with ``source`` written (or added) at the int64 ``array`` of positions along ``dim``; a 0-d input
    and source are taken as one element."""
    if input.ndim == 0:
        return reshape(IndexPut.apply(reshape(input, 1), reshape(source, -1), advanced_key((array,)), accumulate), ())
    return IndexPut.apply(input, source, _key(dim, array), accumulate)


@tensor_method
@composite("index_copy", batch_inside=True)   # seen whole: a trace records the index as an input
def index_copy(input, dim, index, source, *, out=None):
    """A copy of ``input`` with the slices of ``source`` written at positions ``index`` along ``dim``."""
    dim, array = _dim_index("index_copy", input, dim, index)
    _check_source("index_copy_", input, dim, array, source, IndexError)
    if outside_range(input, dim, array):
        check_range(array, input.shape[dim] if input.ndim else 1, dim, IndexError, "index_copy_(): ", False)
    if source.dtype is not input.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but got (self) "
                           f"{_dtype.scalar_type_name(input.dtype)} and (source) "
                           f"{_dtype.scalar_type_name(source.dtype)}")
    result = _put_along(input, dim, array, source, False)
    return write_out(out, keep_versions(name_node(result, "IndexCopyBackward0", (input, source)), index),
                     "index_copy")


@tensor_method
@composite("index_fill", batch_inside=True)   # seen whole: a trace records the index as an input
def index_fill(input, dim, index, value):
    """A copy of ``input`` with ``value`` (a number or 0-d tensor) at positions ``index`` along ``dim``."""
    dim, array = _dim_index("index_fill", input, dim, index)
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.ndim} dimension(s).")
    if isinstance(value, (complex, numpy.complexfloating)) and not input.dtype.is_complex:
        raise RuntimeError("index_fill_(): Converting complex Scalar to non-complex type is not supported")
    inputs = (input, value) if isinstance(value, Tensor) else (input,)
    value = value.to(input.dtype) if isinstance(value, Tensor) else \
        input._data.dtype.type(real_scalar(value, input.dtype))
    if input.ndim == 0:
        result = reshape(IndexPut.apply(reshape(input, 1), value, advanced_key((array,)), False), ())
    else:
        result = IndexPut.apply(input, value, _key(dim, array), False)
    return keep_versions(name_node(result, f"IndexFillBackward{len(inputs) - 1}", inputs), index)


for _function in (index_add, index_copy, index_fill):
    inplace_method(_function)


# --- masks ----------------------------------------------------------------------------------------------------------
def _bool_mask(name, mask):
    if mask.dtype is not _dtype.bool_:
        raise RuntimeError(f"{name} only supports boolean masks, but got mask with dtype "
                           f"{cpp_type_name(mask.dtype)}")


@tensor_method
def masked_fill(input, mask, value):
    """A copy of ``input`` with ``value`` (a number or 0-d tensor) where ``mask`` is True (broadcasting)."""
    from .pointwise import where
    _bool_mask("masked_fill_", mask)
    inputs = (input, value) if isinstance(value, Tensor) else (input,)
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.ndim} dimension(s).")
        if value._data.dtype.kind == "c":
            real_scalar(value.item(), input.dtype)   # raises for an imaginary part
        value = value.to(input.dtype)
    else:
        value = real_scalar(value, input.dtype)
        value = _make(xp_of(input._data).asarray(value).astype(input._data.dtype))
    return name_node(where(mask, value, input), f"MaskedFillBackward{len(inputs) - 1}", inputs)


@tensor_method
@composite("masked_select", batch_inside=True)   # seen whole: a trace records the index as an input
def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` is True (broadcasting), as a 1-d tensor."""
    if mask.dtype is not _dtype.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    _meta.refuse_data_dependent("masked_select", input, mask)
    original, given_mask = input, mask
    input, mask = broadcast_tensors(input, mask)
    result = Index.apply(input, advanced_key((mask._data,)))
    return keep_versions(name_node(result, "MaskedSelectBackward0", (original,)), given_mask)


@tensor_method
@composite("masked_scatter", batch_inside=True)   # seen whole: a trace records the index as an input
def masked_scatter(input, mask, source):
    """A copy of ``input`` with consecutive elements of ``source`` written where ``mask`` is True."""
    if source.dtype is not input.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got"
                           f"{_dtype.scalar_type_name(input.dtype)} and {_dtype.scalar_type_name(source.dtype)}")
    _bool_mask("masked_scatter_", mask)
    original, given_mask = input, mask
    input, mask = broadcast_tensors(input, mask)
    count = int(mask._data.sum())
    if count > source.numel():
        raise RuntimeError("Number of elements of source < number of ones in mask")
    values = reshape(source, -1)[:count]
    result = IndexPut.apply(input, values, advanced_key((mask._data,)), False)
    return keep_versions(name_node(result, "MaskedScatterBackward0", (original, source)), given_mask)


for _function in (masked_fill, masked_scatter):
    inplace_method(_function)


# --- flat indices ---------------------------------------------------------------------------------------------------
def _flat_index(input, index, name="take", empty="take(): tried to take from an empty tensor"):
    """``index`` (a long tensor) as an array of flat positions into ``input``, with PyTorch's errors (``name``: the
    op's, ``empty``: for an empty input)."""
    if isinstance(index, Tensor) and index.dtype is not _dtype.int64:
        raise RuntimeError(f"{name}(): Expected a long tensor for index, but got "
                           f"{_dtype.scalar_type_name(index.dtype)}")
    array = index_array(index, xp_of(input._data))
    size = input.numel()
    if not size and array.size:
        raise IndexError(empty)
    outside = ((array < -size) | (array >= size)).reshape(-1)
    if outside.any():   # PyTorch names the first one in order
        bad = int(array.reshape(-1)[int(outside.argmax())])
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {size} elements.")
    return array


@tensor_method
@composite("take", batch_inside=True)   # seen whole: a trace records the index as an input
def take(input, index):
    """The elements of the flattened ``input`` at ``index``, shaped like ``index``."""
    result = Index.apply(reshape(input, -1), advanced_key((_flat_index(input, index),)))
    return keep_versions(name_node(result, "TakeBackward0", (input,)), index)


@tensor_method
def take_along_dim(input, indices, dim=None, *, out=None):
    """Values of ``input`` at ``indices`` along ``dim`` (broadcasting the other dims); flat when dim is None."""
    if dim is None:   # PyTorch's input.view(-1).gather(0, indices.view(-1))
        return write_out(out, gather(view(input, -1), 0, view(indices, -1)), "take_along_dim")
    dim = wrap_dim(dim, input.ndim)
    if indices.ndim != input.ndim:
        raise RuntimeError("torch.take_along_dim(): input and indices should have the same number of dimensions, but "
                           f"got {input.ndim} dimensions for input, and {indices.ndim} dimensions for indices")
    shape_in, shape_ix = list(input.shape), list(indices.shape)
    shape_in[dim] = shape_ix[dim] = 1
    common = list(broadcast_tensors(_make(numpy.empty(shape_in)), _make(numpy.empty(shape_ix)))[0].shape)
    input = expand(input, common[:dim] + [input.shape[dim]] + common[dim + 1:])
    indices = expand(indices, common[:dim] + [indices.shape[dim]] + common[dim + 1:])
    return write_out(out, gather(input, dim, indices), "take_along_dim")


def _put(input, index, source, accumulate=False):
    """A copy of ``input`` with ``source`` written (or added) at the flat positions ``index``."""
    if source.dtype is not input.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{_dtype.scalar_type_name(input.dtype)} and source.dtype = "
                           f"{_dtype.scalar_type_name(source.dtype)}")
    array = _flat_index(input, index, "put_", "put_(): Tried to put elements into an empty tensor").reshape(-1)
    if array.size != source.numel():
        raise RuntimeError(f"put_(): Expected source and index to have the same number of elements, but got source "
                           f"with {source.numel()} elements and index with {array.size} elements")
    flat = IndexPut.apply(reshape(input, -1), reshape(source, -1), advanced_key((array,)), bool(accumulate))
    return keep_versions(name_node(reshape(flat, input.shape), "PutBackward0", (input, source)), index)


put = composite("put", batch_inside=True)(_put)   # seen whole: a trace records the index as an input
put.__name__ = "put"
Tensor.put = put
inplace_method(put, "put_")
index_put_ = Tensor.index_put_


# --- embedding into views -------------------------------------------------------------------------------------------
def _embed(input, src, view):
    """A copy of ``input`` whose ``view`` (a function of a tensor) holds ``src``."""
    target = view(input)
    if tuple(target.shape) != tuple(src.shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = {list(src.shape)}, "
                           f"slice size = {list(target.shape)}")
    positions = view(_make(xp_of(input._data).arange(input.numel()).reshape(input.shape)))
    flat = IndexPut.apply(reshape(input, -1), src.to(input.dtype), advanced_key((positions._data,)), False)
    return reshape(flat, input.shape)


@tensor_method
def select_scatter(input, src, dim, index):
    """A copy of ``input`` with ``src`` written at ``input.select(dim, index)``."""
    return _embed(input, src, lambda t: t.select(dim, index))


@tensor_method
def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """A copy of ``input`` with ``src`` written at the slice ``start:end:step`` of dim ``dim``."""
    refuse_complex_autograd("slice_scatter", input, src)
    dim = wrap_dim(dim, input.ndim)
    return _embed(input, src, lambda t: t[(slice(None),) * dim + (slice(start, end, step),)])


@tensor_method
def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """A copy of ``input`` (keeping its dense layout) with ``src`` written where ``as_strided(size, stride,
    storage_offset)`` of that copy's memory reaches."""
    result = input.clone()
    target = result.as_strided(size, stride, storage_offset)
    if tuple(target.shape) != tuple(src.shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = {list(src.shape)}, "
                           f"slice size = {list(target.shape)}")
    target.copy_(src)
    return name_node(result, "AsStridedScatterBackward0", (input, src))


@tensor_method
def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of ``input`` with ``src`` written on ``input.diagonal(offset, dim1, dim2)``."""
    return _embed(input, src, lambda t: t.diagonal(offset, dim1, dim2))


# --- where the nonzeros are -----------------------------------------------------------------------------------------
@tensor_method
@composite("nonzero")   # its size comes from the data: seen whole, so traces record it
def nonzero(input, *, out=None, as_tuple=False):
    """Indices of nonzero elements: an (n, ndim) int64 tensor, or with ``as_tuple`` one 1-d tensor per dim."""
    _meta.refuse_data_dependent("nonzero", input)
    data = input._data.reshape(1) if input.ndim == 0 else input._data
    xp = xp_of(data)
    found = [i.astype(xp.int64, copy=False) for i in xp.nonzero(data)]
    if as_tuple:
        return tuple(_make(i) for i in found)
    result = xp.stack(found, axis=1) if input.ndim else xp.zeros((found[0].shape[0], 0), dtype=xp.int64)
    if isinstance(out, Tensor) and out.dtype is not _dtype.int64:
        raise RuntimeError(f"nonzero: Expected out tensor to have scalar type Long but got scalar type"
                           f"{_dtype.scalar_type_name(out.dtype)}")   # (sic: PyTorch's has no space)
    return write_out(out, _make(result), "nonzero")


@tensor_method
def nonzero_static(input, *, size, fill_value=-1):
    """``nonzero``'s (size, ndim) indices, cut to ``size`` rows or padded with ``fill_value`` rows up to it (a shape
    known without reading the data, for export)."""
    for name, value in (("size", size), ("fill_value", fill_value)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"nonzero_static(): argument '{name}' must be int, not {type(value).__name__}")
    if size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    if input.ndim == 0:
        return _make(xp_of(input._data).zeros((size, 0), dtype="int64"))
    found = nonzero(input.detach())._data[:size]
    xp = xp_of(found)
    result = xp.full((size, input.ndim), fill_value, dtype=xp.int64)
    result[:found.shape[0]] = found
    return _make(result)


@tensor_method
def argwhere(input):
    """Indices of nonzero elements as an (n, ndim) tensor."""
    return nonzero(input)
