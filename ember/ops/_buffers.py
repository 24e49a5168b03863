"""Scratch arrays reused across steps: the large temporaries of convolutions (columns, their products, folds).

A fresh array of tens of megabytes is mapped from the OS on every call and returned on free, so each training step
would fault its pages in again (profiled, ~14 % of a CNN step's CPU time). The pool hands an array out again only
once nothing but the pool refers to it (no tensor, view or saved context), which the reference count tells exactly,
so a buffer still in use is never handed out twice.
"""
import contextlib
import sys
import threading
from collections import OrderedDict

from . import _parallel

MAX_SHAPES = 64
"""Shapes kept (least recently used dropped first): a training loop uses a few per layer."""
PER_SHAPE = 16
"""Arrays kept per shape: how many of one shape can be alive at once and still be reused (a 2-layer LSTM's training
step holds ~10 of its (steps x batch, hidden) arrays at once: outputs, cells, their gradients)."""
MIN_BYTES = 1 << 20
"""Smaller arrays come from the allocator's own free lists, without page faults: they are not pooled."""

_pool = OrderedDict()   # (array module, shape, dtype) -> [arrays]
_lock = threading.Lock()
_UNUSED = sys.getrefcount(object()) + 2   # the pool's list and the loop's name refer to a free array
_scope = threading.local()


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
        arrays = _pool.get(key)
        if arrays is None:
            arrays = _pool[key] = []
            if len(_pool) > MAX_SHAPES:
                _pool.popitem(last=False)
        else:
            _pool.move_to_end(key)
        for array in arrays:
            if sys.getrefcount(array) <= _UNUSED:
                return array
        array = xp.empty(shape, dtype=dtype)
        if len(arrays) < PER_SHAPE:
            arrays.append(array)
        return array


def zeros(xp, shape, dtype):
    """A zero-filled array of ``shape`` and ``dtype``, reused from the pool when one is free."""
    return _parallel.assign(empty(xp, shape, dtype), 0)


@contextlib.contextmanager
def pooled_results():
    """Inside the block, ops that ask ``pooling()`` (``Cat``) take their large results from the pool: a recurrent
    module joins its two directions' outputs every call, and a fresh array faulted its pages in each time (~1.4 ms
    of a BiLSTM 2x128 forward's ~36 ms per join). Scoped, so a user's own large results are not kept by the pool."""
    previous = getattr(_scope, "on", False)
    _scope.on = True
    try:
        yield
    finally:
        _scope.on = previous


def pooling():
    """Whether this thread is inside ``pooled_results``."""
    return getattr(_scope, "on", False)
