"""Indexing keys as PyTorch reads them: the items of ``tensor[key]`` (ints, slices, None, Ellipsis, bools, tensors,
sequences and NumPy arrays) turned into a (basic, advanced) pair of NumPy keys, with PyTorch's errors and warnings for
keys it refuses or deprecates; ``indexing`` reads and writes with them."""
import numpy

from .. import _dtype, _meta
from .._backend import xp_of
from .._tensor import Tensor
from .._warnings import warn
from ..autograd.function import dispatch_hooks
from ._util import warn_at_caller, warn_once

_UINT8_INDEX_MESSAGE = "indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool instead."
_NUMPY_INDEX_KINDS = "biufc"   # PyTorch turns a sequence or array of these into a long (or byte, bool) index


def index_array(value, xp):
    """A tensor, list or array used as an index, as an int64 or bool array, as PyTorch reads it: a tensor must be
    long, int, byte or bool (IndexError otherwise); a sequence or array becomes a bool or byte mask if it holds bools
    or uint8s, else a long index (floats truncated)."""
    if isinstance(value, Tensor):
        if value.dtype not in (_dtype.int64, _dtype.int32, _dtype.uint8, _dtype.bool_):
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        array = value._data
    else:
        array = _sequence_index(value, xp)
    if array.dtype.kind == "b" or array.dtype == numpy.uint8:
        return array.astype(bool, copy=False)
    return array.astype(numpy.int64, copy=False)


def _sequence_index(value, xp):
    """A list, tuple or NumPy array used as an index, as an array of the dtype PyTorch's ``indexing_tensor_from_data``
    gives it: bool and uint8 kept, other numbers as int64 (complex arrays by their real part)."""
    array = numpy.asarray(value)
    if array.dtype == object:
        raise IndexError("too many indices or mixed sequence types in an index")
    if array.dtype.kind not in _NUMPY_INDEX_KINDS:
        if isinstance(value, numpy.ndarray):
            raise TypeError(f"can't convert np.ndarray of type numpy.{array.dtype.type.__name__}. The only supported "
                            "types are: float64, float32, float16, complex64, complex128, int64, int32, int16, int8, "
                            "uint64, uint32, uint16, uint8, and bool.")
        raise TypeError(f"new(): invalid data type '{'str' if array.dtype.kind == 'U' else 'bytes'}'")
    if array.dtype.kind == "c":
        if not isinstance(value, numpy.ndarray):
            raise TypeError("'complex' object cannot be interpreted as an integer")
        warn_once("complex to real", "Casting complex values to real discards the imaginary part")
        array = array.real
    if array.size == 0 or array.dtype.kind != "b" and array.dtype != numpy.uint8:
        with numpy.errstate(invalid="ignore"):   # NaN becomes int64's lowest value, as in PyTorch
            array = array.astype(numpy.int64, copy=False)
    return xp.asarray(array)


_SEQUENCE_KEY_MESSAGE = (
    "Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed in pytorch 2.9; use "
    "x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be interpreted as tensor index, x[torch.tensor(seq)], "
    "which will result either in an error or a different result")


def sequence_key(key):
    """``key`` as PyTorch reads it: a list of fewer than 32 items holding a sequence, tensor, slice, None or Ellipsis
    indexes one dim per item, like a tuple (NumPy's old rule, with PyTorch's deprecation warning); any other key is
    returned unchanged."""
    if not isinstance(key, list) or len(key) >= 32 or not any(item is None or item is Ellipsis or isinstance(
            item, (slice, Tensor, list, tuple, range, numpy.ndarray)) for item in key):
        return key
    warn(_SEQUENCE_KEY_MESSAGE, UserWarning, stacklevel=3)
    return tuple(key)


def normalize_key(input, key, deferred=None):
    """Turns a ``__getitem__`` key into a pair (basic, advanced) of NumPy keys applied one after the other.

    PyTorch applies ints, slices and None first (as views) and index tensors after, to what is left; NumPy would
    treat ints as index arrays too, which moves dims differently. ``advanced`` is None for a view-only key. Where
    ``deferred`` is a list, the check of the index arrays' values (PyTorch's index kernel's) is appended to it for
    the caller to run after its own checks, rather than run here.
    """
    single = not isinstance(key, tuple)
    key = (key,) if single else key
    if single and isinstance(key[0], str):   # PyTorch takes it for a sequence of indices, then refuses its items
        warn(_SEQUENCE_KEY_MESSAGE, UserWarning, stacklevel=3)
    if single and isinstance(key[0], slice):   # its step is read before the dims are counted
        _check_step(key[0])
    specified = ellipses = 0
    for item in key:
        if item is Ellipsis:
            ellipses += 1
        else:
            specified += _specified(item)
    if specified > input.ndim:   # counted before any item is read, as PyTorch's
        _too_many(input, key, single)
    if ellipses > 1:
        key = _ellipses_spelled_out(key, input.ndim - specified, input.ndim)
    xp = xp_of(input._data)
    items, byte_mask = [], False
    for item in key:
        if isinstance(item, numpy.ndarray) and item.ndim == 0 and item.dtype.kind in _NUMPY_INDEX_KINDS and \
                item.dtype != numpy.uint8:   # PyTorch reads it as the number it holds
            item = bool(item) if item.dtype.kind == "b" else index_int(int(item.real))
        if isinstance(item, slice):
            _check_step(item)
            items.append(item)
        elif item is None or item is Ellipsis or isinstance(item, bool):
            items.append(item)
        elif isinstance(item, Tensor) and selects(item):
            items.append(int(item.item()))
        elif isinstance(item, (Tensor, list, tuple, numpy.ndarray)) or hasattr(item, "__cuda_array_interface__"):
            items.append(index_array(item, xp))
            byte_mask = byte_mask or items[-1].dtype == bool and items[-1].ndim and holds_bytes(item)
        elif isinstance(item, range):
            items.append(index_array(list(item), xp))
        elif hasattr(item, "__index__"):
            items.append(index_int(item.__index__()))
        elif isinstance(item, (str, bytes)):
            raise TypeError(f"new(): invalid data type '{type(item).__name__}'")
        else:
            kind = type(item)
            name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
                             f"valid indices (got {name})")
    _check_bounds(input, items, byte_mask, deferred)
    if not any(item is Ellipsis for item in items):
        items.append(Ellipsis)
    if not any(isinstance(item, bool) or hasattr(item, "dtype") for item in items):
        return tuple(items), None
    return _split_key(items, xp)


def _check_step(item):
    """PyTorch's ValueError for a slice whose step is not positive."""
    if item.step is not None and int(item.step) <= 0:
        raise ValueError("slice step cannot be zero" if int(item.step) == 0 else "step must be greater than zero")


def _specified(item):
    """How many dims PyTorch counts ``item`` of a key as indexing (``count_specified_dimensions``): none for None,
    Ellipsis and Python bools, a mask tensor's dims, one for anything else (a list of bools too)."""
    if item is None or item is Ellipsis or isinstance(item, bool):
        return 0
    if isinstance(item, Tensor) and (item.dtype is _dtype.bool_ or item.dtype is _dtype.uint8):
        return item.ndim
    return 1


def _too_many(input, key, single):
    """PyTorch's IndexError for a key naming more dims than ``input`` has; a lone int or slice on a 0-d tensor is
    refused by its select or slice."""
    if single and input.ndim == 0 and isinstance(key[0], slice):
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    if single and input.ndim == 0 and hasattr(key[0], "__index__") and not isinstance(key[0], (Tensor, numpy.ndarray)):
        value = index_int(key[0].__index__())
        if value == 0:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in "
                             "C++ to convert a 0-dim tensor to a number")
        raise IndexError(f"index {value} is out of bounds for dimension 0 with size 0")
    raise IndexError(f"too many indices for tensor of dimension {input.ndim}")


def _ellipses_spelled_out(key, each, ndim):
    """``key`` with each of its Ellipses as ``each`` full slices, as PyTorch's indexing advances past every Ellipsis
    by the dims the key leaves unnamed; full slices beyond the last dim are dropped."""
    items = []
    for item in key:
        items.extend([slice(None)] * each if item is Ellipsis else [item])
    while sum(_specified(item) for item in items) > ndim and isinstance(items[-1], slice) and \
            items[-1] == slice(None):
        items.pop()
    return tuple(items)


def holds_bytes(index):
    """Whether the tensor, array or sequence ``index`` holds uint8s."""
    dtype = getattr(index, "dtype", None)
    if dtype is None:
        return numpy.asarray(index).dtype == numpy.uint8
    return dtype is _dtype.uint8 or dtype == numpy.uint8


def index_int(value):
    """An int index as PyTorch unpacks it: a C++ long long (ValueError beyond its range)."""
    value = int(value)
    if not -2 ** 63 <= value < 2 ** 63:
        raise ValueError("Overflow when unpacking long long")
    return value


def selects(item):
    """Whether PyTorch reads the index tensor ``item`` as an int (a select, a view): a 0-d integer tensor other than
    uint8 (a mask), with its value at hand (not while tracing, not on meta)."""
    return item.ndim == 0 and item._data.dtype.kind in "iu" and item.dtype is not _dtype.uint8 and \
        not dispatch_hooks and item.device.type != "meta"


def _split_key(items, xp):
    basic, advanced = [], []
    for item in items:
        if isinstance(item, bool):
            basic.append(None)
            advanced.append(xp.zeros(1 if item else 0, dtype=xp.int64))
        elif hasattr(item, "dtype"):
            if item.dtype.kind == "b":   # a mask: its size comes from the data
                _meta.refuse_data_dependent("nonzero", item)
            basic.extend([slice(None)] * (item.ndim if item.dtype.kind == "b" else 1))
            advanced.append(item)
        elif isinstance(item, int):
            basic.append(item)
        else:
            basic.append(item)
            advanced.append(item if item is Ellipsis else slice(None))
    return tuple(basic), tuple(advanced)


def _consumed(item):
    """How many dims of the indexed tensor an index item uses up."""
    if item is None or item is Ellipsis or isinstance(item, bool):
        return 0
    if hasattr(item, "dtype") and item.dtype.kind == "b":
        return item.ndim
    return 1


def _check_bounds(input, items, byte_mask=False, deferred=None):
    """PyTorch's IndexErrors for too many indices, out-of-range integers and mismatched masks (and its warning for a
    ``byte_mask``, a uint8 mask of one dim or more); the index arrays' ranges are checked last, or appended to a
    ``deferred`` list."""
    shape = input._data.shape
    used = sum(_consumed(item) for item in items)
    if used > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    if byte_mask:
        warn_at_caller(_UINT8_INDEX_MESSAGE)
    dims, dim = [], 0   # the first dim of self each item indexes
    for item in items:
        dims.append(dim)
        dim += len(shape) - used if item is Ellipsis else _consumed(item)
    arrays = [(position, item) for position, item in enumerate(items) if hasattr(item, "dtype")]
    for item, dim in zip(items, dims):   # PyTorch's order: selects, masks, broadcasting, then the index kernel
        if isinstance(item, int) and not isinstance(item, bool) and not -shape[dim] <= item < shape[dim]:
            raise IndexError(f"index {item} is out of bounds for dimension {dim} with size {shape[dim]}")
    for position, item in arrays:
        if item.dtype.kind == "b" and item.ndim and item.shape != shape[dims[position]:dims[position] + item.ndim]:
            _mask_error(item.shape, shape, dims[position], items[:position])
    if len(arrays) > 1:
        check_broadcast([item for _, item in arrays])

    def check_ranges():
        for position, item in arrays:
            if item.dtype.kind != "b" and item.size:
                if not shape[dims[position]]:   # PyTorch's index kernel names neither the index nor the dim here
                    raise IndexError("index is out of bounds for dimension with size 0")
                check_range(item, shape[dims[position]], dims[position], IndexError)
    if deferred is None:
        check_ranges()
    elif arrays:
        deferred.append(check_ranges)


def check_broadcast(arrays):
    """PyTorch's IndexError where the index arrays do not broadcast together (a mask counting as one index per dim,
    of its true elements, as PyTorch's nonzero), shapes as lists."""
    shapes = []
    for index in arrays:
        shapes += [[int(index.sum())]] * index.ndim if index.dtype == bool else [list(index.shape)]
    try:
        numpy.broadcast_shapes(*map(tuple, shapes))
    except ValueError:
        raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes "
                         + ", ".join(map(str, shapes))) from None


def _mask_error(mask_shape, shape, dim, before):
    """PyTorch's IndexError for a mask not matching the dims it covers: named by the mask's first mismatching dim
    and the shape the keys ``before`` it leave (ints, slices and None applied, index arrays not yet)."""
    first = next(i for i, size in enumerate(mask_shape) if size != shape[dim + i])
    basic = []
    for item in before:
        if not hasattr(item, "dtype"):
            basic.append(item)
        elif item.dtype.kind == "b":   # a mask covers its dims; a 0-d one adds a dim, as True does
            basic.extend([slice(None)] * item.ndim if item.ndim else [None])
        else:
            basic.append(slice(None))
    if Ellipsis not in basic:
        basic.append(Ellipsis)
    viewed = numpy.broadcast_to(numpy.empty((), bool), shape)[tuple(basic)].shape
    start = len(viewed) - (len(shape) - dim)
    raise IndexError(f"The shape of the mask {list(mask_shape)} at index {first} does not match the shape of the "
                     f"indexed tensor {list(viewed)} at index {start + first}")


def check_range(index, size, dim, error, prefix="", negative=True):
    """PyTorch's error for indices outside [-size, size) (outside [0, size) without ``negative``)."""
    low, high = int(index.min()), int(index.max())
    if low < (-size if negative else 0) or high >= size:
        bad = high if high >= size else low
        raise error(f"{prefix}index {bad} is out of bounds for dimension {dim} with size {size}")


def outside_range(input, dim, index):
    """Whether the int64 array ``index`` has entries outside [0, input.shape[dim]) (a 0-d input's size 1)."""
    size = input.shape[dim] if input.ndim else 1
    return index.size and (int(index.min()) < 0 or int(index.max()) >= size)
