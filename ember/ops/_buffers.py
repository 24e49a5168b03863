"""Large arrays reused across steps: convolutions' temporaries (columns, products, folds), their outputs and
gradients, and the results of large elementwise kernels.

A fresh array of megabytes is mapped from the OS and given back on free (or the heap holding it is trimmed), so each
training step would fault its pages in again (profiled, ~14 % of a CNN step's CPU time, and with two threads their
faults contend in the kernel). The pool hands an array out again only once nothing but the pool refers to it (no
tensor, view or saved context), which the reference count tells exactly, so an array still in use is never handed out
twice. The pool holds at most ``MAX_BYTES``; when full it lets go of the free arrays of shapes unused for
``STALE_CALLS`` calls (a program whose shapes changed: a last, shorter batch), else a new array is simply not kept,
so a step that needs more than the budget reuses what it can and never evicts what the same step uses again.
"""
import sys
import threading
from collections import OrderedDict

from .._backend import xp_of


MAX_SHAPES = 256
"""Shapes kept (least recently used dropped first): a training loop uses a few per layer."""
PER_SHAPE = 16
"""Arrays kept per shape: how many of one shape can be alive at once and still be reused (a 2-layer LSTM's training
step holds ~10 of its (steps x batch, hidden) arrays at once: outputs, cells, their gradients)."""
MIN_BYTES = 1 << 20
"""Smaller arrays come from the allocator's own free lists, without page faults: they are not pooled."""
MAX_BYTES = 1 << 29
"""Bytes of pooled arrays, in use or free, at most: a pool holding every array of a large model's training step
raised its peak memory (ResNet-18 at 224x224: 898 MB against 837 MB unpooled; 809 MB with this budget)."""
STALE_CALLS = 10_000
"""Calls to the pool after which a shape not asked for since counts as no longer used: a training step of the
common models asks a few hundred times."""

_pool = OrderedDict()   # (array module, shape, dtype) -> [arrays]
_lock = threading.Lock()
_held = [0]   # bytes of the arrays in the pool
_calls = [0]   # calls for pooled sizes so far
_used = {}   # key -> the call that last asked for it
_UNUSED = sys.getrefcount(object()) + 2   # the pool's list and the loop's name refer to a free array


def empty(xp, shape, dtype):
    """An uninitialised array of ``shape`` and ``dtype``, reused from the pool when one is free."""
    shape = tuple(shape)
    dtype = xp.dtype(dtype)
    size = dtype.itemsize
    for n in shape:
        size *= n
    if size < MIN_BYTES or xp.__name__ != "numpy":   # CuPy keeps its own pool of device memory
        return xp.empty(shape, dtype=dtype)
    key = (xp, shape, dtype)
    with _lock:
        _calls[0] += 1
        _used[key] = _calls[0]
        arrays = _pool.get(key)
        if arrays is None:
            arrays = _pool[key] = []
            if len(_pool) > MAX_SHAPES:
                oldest, dropped = _pool.popitem(last=False)
                del _used[oldest]
                _held[0] -= sum(a.nbytes for a in dropped)
        else:
            _pool.move_to_end(key)
        for array in arrays:
            if sys.getrefcount(array) <= _UNUSED:
                return array
        array = xp.empty(shape, dtype=dtype)
        if len(arrays) < PER_SHAPE and (_held[0] + size <= MAX_BYTES or _let_go(_held[0] + size - MAX_BYTES)):
            arrays.append(array)
            _held[0] += size
        return array


def copy(array):
    """A C-contiguous copy of ``array`` (as ``array.copy()``), in a pooled array when large."""
    result = empty(xp_of(array), array.shape, array.dtype)
    result[...] = array
    return result


def _let_go(excess):
    """Drops free arrays of stale shapes, least recently used first, until ``excess`` bytes are gone; whether they
    are."""
    for key, arrays in _pool.items():
        if _used[key] > _calls[0] - STALE_CALLS:
            return False   # this shape and every later one were asked for lately
        kept = []
        for array in arrays:
            if excess > 0 and sys.getrefcount(array) <= _UNUSED:
                _held[0] -= array.nbytes
                excess -= array.nbytes
            else:
                kept.append(array)
        arrays[:] = kept
        if excess <= 0:
            return True
    return False


def empty_like(xp, a):
    """``xp.empty_like(a)``, from the pool when ``a`` is C-contiguous (a new array of another layout keeps a's)."""
    return empty(xp, a.shape, a.dtype) if a.flags.c_contiguous else xp.empty_like(a)
