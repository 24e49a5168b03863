"""Large arrays reused across steps: convolutions' temporaries (columns, products, folds), their outputs and
gradients, and the results of large elementwise kernels.

A fresh array of megabytes is mapped from the OS and given back on free (or the heap holding it is trimmed), so each
training step would fault its pages in again (profiled, ~14 % of a CNN step's CPU time, and with two threads their
faults contend in the kernel). The pool keeps blocks of memory and hands out arrays laid over them: a request takes
the smallest free block of at least its bytes and at most ``SLACK`` times them, whatever shape or dtype the block
held before, so a forward's temporaries serve the backward's of other shapes (keyed by shape, the pool held every
shape's most at once: ResNet-18 at 224x224 kept 488 MB where its pooled arrays in use peaked at 274 MB). A block is
handed out again only once nothing but the pool refers to the array last laid over it (no tensor, view or saved
context), which the reference count tells exactly, so memory still in use is never handed out twice. The pool holds
at most ``MAX_BYTES``; when full it lets go of the free blocks unused for ``STALE_CALLS`` calls (a program whose
shapes changed: a last, shorter batch), else a new array is simply not kept, so a step that needs more than the
budget reuses what it can and never evicts what the same step uses again.
"""
import bisect
import ctypes
import itertools
import sys
import threading

import numpy

from .._backend import xp_of


MIN_BYTES = 1 << 20
"""Smaller arrays come from the allocator's own free lists, without page faults: they are not pooled."""
MAX_BYTES = 1 << 29
"""Bytes of pooled blocks, in use or free, at most: a pool holding every array of a large model's training step
raised its peak memory (ResNet-18 at 224x224: 898 MB against 837 MB unpooled; 809 MB with this budget)."""
MAX_BLOCKS = 512
"""Blocks kept at most (a training step of the common models uses under a hundred at once)."""
SLACK = 2
"""A free block serves a request of at least ``1 / SLACK`` of its bytes. Simulated on the recorded requests of six
models' training steps, the pool's size fell with the slack allowed up to 2 (ResNet-18 224x224 482 -> 355 MB, 5x5
CNN 74 -> 46, MobileNetV2 264 -> 189) and no further beyond it."""
STALE_CALLS = 10_000
"""Calls to the pool after which a block not handed out since counts as no longer used: a training step of the
common models asks a few hundred times."""


class _Block:
    """Pooled memory: ``memory`` (a memoryview of a ctypes array over a NumPy byte array: an array laid over it has
    the ctypes array as its base, so to ``Tensor.untyped_storage`` and the autograd engine it owns its memory rather
    than viewing a larger array; through the memoryview NumPy lays it ~1 us faster), ``array`` the array last laid
    over it, ``used`` the pool call that did."""

    __slots__ = ("nbytes", "memory", "array", "used")

    def __init__(self, nbytes, memory, array, used):
        self.nbytes, self.memory, self.array, self.used = nbytes, memory, array, used


_pool = []   # blocks, by bytes
_lock = threading.Lock()
_held = [0]   # bytes of the blocks in the pool
_calls = [0]   # calls for pooled sizes so far
_probe = _Block(0, None, object(), 0)
_FREE = sys.getrefcount(_probe.array)   # a block whose array only the pool refers to
del _probe


def empty(xp, shape, dtype):
    """An uninitialised array of ``shape`` and ``dtype``, laid over a free pooled block when one fits."""
    shape = tuple(shape)
    dtype = xp.dtype(dtype)
    size = dtype.itemsize
    for n in shape:
        size *= n
    if size < MIN_BYTES or not size or xp is not numpy or dtype.hasobject:   # CuPy keeps its own device pool
        return xp.empty(shape, dtype=dtype)
    with _lock:
        _calls[0] += 1
        for block in itertools.islice(_pool, bisect.bisect_left(_pool, size, key=_bytes), None):
            if block.nbytes > SLACK * size:
                break
            if sys.getrefcount(block.array) <= _FREE:
                block.array, block.used = numpy.ndarray(shape, dtype, buffer=block.memory), _calls[0]
                return block.array
        if not _room(size):
            return numpy.empty(shape, dtype=dtype)
        memory = memoryview((ctypes.c_char * size).from_buffer(numpy.empty(size, numpy.uint8)))
        block = _Block(size, memory, numpy.ndarray(shape, dtype, buffer=memory), _calls[0])
        bisect.insort(_pool, block, key=_bytes)
        _held[0] += size
        return block.array


def _bytes(block):
    return block.nbytes


def _room(size):
    """Whether a new block of ``size`` bytes may join the pool, letting stale free blocks go to make room."""
    excess = _held[0] + size - MAX_BYTES
    return (excess <= 0 or _let_go(excess)) and (len(_pool) < MAX_BLOCKS or _let_go(1))


def _let_go(excess):
    """Drops free blocks unused for ``STALE_CALLS`` calls, least recently used first, until ``excess`` bytes are
    gone; whether they are."""
    for block in sorted(_pool, key=lambda b: b.used):
        if block.used > _calls[0] - STALE_CALLS:
            return False   # this block and every later one were handed out lately
        if sys.getrefcount(block.array) <= _FREE:
            _pool.remove(block)
            _held[0] -= block.nbytes
            excess -= block.nbytes
            if excess <= 0:
                return True
    return False


def copy(array):
    """A C-contiguous copy of ``array`` (as ``array.copy()``), in a pooled array when large."""
    result = empty(xp_of(array), array.shape, array.dtype)
    result[...] = array
    return result


def empty_like(xp, a):
    """``xp.empty_like(a)``, from the pool when ``a`` is C-contiguous (a new array of another layout keeps a's)."""
    return empty(xp, a.shape, a.dtype) if a.flags.c_contiguous else xp.empty_like(a)
