"""Intra-op parallelism: one large kernel split into chunks that run at once on a small thread pool.

NumPy releases the GIL inside ufunc loops and array copies, so the chunks of an elementwise or copy kernel run on
separate cores, as PyTorch's OpenMP loops do (matrix products are threaded by the BLAS already). The pool has
``OMP_NUM_THREADS`` threads when that is set, else as many as NumPy's BLAS where its threads can be made to sleep
between products (``_runtime._quiet_blas_threads``: spinning BLAS threads beside a second pool thread made every
model slower), else one (the kernels run whole); ``ember.set_num_threads`` changes it. ``map_chunks`` (and
``ufunc``, ``assign``, ``where`` on it) cut an array kernel into parts along one axis; each part computes its
elements from the same inputs as the whole call does, so results are bit-identical to one thread.
"""
import contextvars
import functools
import itertools
import math
import os
import queue
import threading

import numpy

from .._tensor import grad_state
from . import _buffers

_state = {"threads": None, "pool": None}
_lock = threading.Lock()
_inside = threading.local()   # set in the pool's threads: a kernel called from a chunk runs whole, never nests


def _default_threads():
    try:
        wanted = int(os.environ.get("OMP_NUM_THREADS", "0"))
    except ValueError:
        wanted = 0
    if wanted > 0:
        return wanted
    # As many as the BLAS uses, where its threads can be made to sleep after each product (a second pool thread
    # competing with spinning ones made every model measured slower: docs/speed_threads.md, "Intra-op threads");
    # else one.
    from .. import _runtime
    return max(1, _runtime.get_num_threads()) if _runtime._blas_threads_sleep() else 1


def num_threads():
    """How many threads a parallel kernel uses (the calling thread included)."""
    if _state["threads"] is None:
        _state["threads"] = _default_threads()
    return _state["threads"]


def set_num_threads(count):
    """Sets the thread count for later kernels; the pool is rebuilt at its next use."""
    with _lock:
        _state["threads"], pool, _state["pool"] = count, _state["pool"], None
    if pool is not None:
        pool.shutdown()


class _Pool:
    """Daemon threads serving jobs from one queue: a hand-off costs a queue put and a lock release (~2x cheaper
    than an executor's futures, which sets how small a kernel may be and still be split)."""

    def __init__(self, workers):
        self.jobs = queue.SimpleQueue()
        for i in range(workers):
            threading.Thread(target=self._serve, name=f"ember-intraop_{i}", daemon=True).start()
        self.workers = workers

    def _serve(self):
        _inside.active = True
        while True:
            job = self.jobs.get()
            if job is None:
                return
            job()

    def submit(self, job):
        """Queues ``job()``, which must not raise (``parallel_for``'s helpers hand their errors over)."""
        self.jobs.put(job)

    def shutdown(self):
        for _ in range(self.workers):
            self.jobs.put(None)


def _pool():
    pool = _state["pool"]
    if pool is None:
        with _lock:
            if _state["pool"] is None:
                from .. import _runtime
                _runtime._quiet_blas_threads()   # before a second thread runs kernels beside the BLAS's
                _state["pool"] = _Pool(max(1, num_threads() - 1))
            pool = _state["pool"]
    return pool


def on_each_worker(function):
    """Runs ``function()`` once on every pool thread that has started (for per-thread state such as the float
    environment); returns when all have. A pool thread started later is created by a thread that already holds
    that state, and inherits it."""
    pool = _state["pool"]
    if pool is None:
        return
    gate = threading.Barrier(pool.workers + 1)   # each worker takes one job: it waits here until all have theirs

    def job():
        try:
            function()
        finally:
            gate.wait()
    for _ in range(pool.workers):
        pool.submit(job)
    gate.wait()


def parallel_for(count, work, grain=1, per_thread=1):
    """Calls ``work(start, stop)`` on disjoint ranges that cover ``range(count)``, at once on up to
    ``num_threads()`` threads, each range at least ``grain`` long (up to ``per_thread`` ranges a thread); returns
    when all are done.

    Ranges are claimed, not assigned: the calling thread runs the first and then any that no pool thread has taken
    yet, so when the other cores are busy (a pool thread not scheduled) the kernel runs on alone instead of waiting;
    with more ranges than threads, a pool thread that wakes late leaves the caller fewer of them to wait for.
    Pool threads run their ranges in the caller's context variables and grad modes."""
    threads = num_threads()
    chunks = min(threads * per_thread, count // max(grain, 1))
    if chunks <= 1 or threads == 1 or getattr(_inside, "active", False):
        work(0, count)
        return
    bounds = [count * i // chunks for i in range(chunks + 1)]
    claims = itertools.count()   # next() is atomic under the GIL: each range is claimed once
    done = [threading.Lock() for _ in range(chunks)]
    for lock in done:
        lock.acquire()
    errors = []
    modes = grad_state.enabled, grad_state.inference

    def helper():
        grad_state.enabled, grad_state.inference = modes   # the caller's grad modes (they are per thread)
        for i in iter(claims.__next__, None):
            if i >= chunks:
                return
            try:
                work(bounds[i], bounds[i + 1])
            except BaseException as error:  # noqa: BLE001 (handed to the caller, which raises it)
                errors.append(error)
            finally:
                done[i].release()
    pool = _pool()
    for _ in range(min(chunks, threads) - 1):   # each in a copy of the caller's context (NumPy's error state is one)
        pool.submit(functools.partial(contextvars.copy_context().run, helper))
    ran = set()
    _inside.active = True
    try:
        for i in iter(claims.__next__, None):
            if i >= chunks:
                break
            ran.add(i)
            work(bounds[i], bounds[i + 1])
    finally:
        _inside.active = False
        for i in iter(claims.__next__, None):   # after an error: no thread may start another range
            if i >= chunks:
                break
            ran.add(i)
        for i in set(range(chunks)) - ran:   # ranges pool threads claimed: they are running or done
            done[i].acquire()
    if errors:
        raise errors[0]

_ndarray = numpy.ndarray
MIN_ELEMENTS = 1 << 17
"""Elements per chunk at least: an array under twice this runs in one call, as the pool's hand-off (~15 us on a
quiet host, far more on a loaded one) would cost more than a second core gives (so the per-op overhead of small
tensors is one size check)."""


def parts(count, size, work):
    """Calls ``work(start, stop)`` on parts of ``range(count)``, at once when the whole work touches ``size``
    elements or more than twice ``MIN_ELEMENTS``, else once on all of it."""
    parallel_for(count, work, -(-MIN_ELEMENTS * count // max(size, 1)))


def map_chunks(work, out, *operands):
    """Calls ``work(out_part, *operand_parts)`` on parts of ``out`` cut along its first axis longer than 1, at once
    when ``out`` is a large NumPy array (other arrays, as CuPy's, are passed whole); each operand (broadcasting
    against ``out``) is cut alike where it spans that axis and passed whole where it broadcasts. ``work`` must
    compute each element of its part from the same elements of the operands alone (elementwise, or reducing along
    other axes): then any cut gives the same bits. Returns ``out``."""
    size = out.size
    if size < 2 * MIN_ELEMENTS or num_threads() == 1 or not isinstance(out, numpy.ndarray):
        work(out, *operands)
        return out
    axis = next(i for i, n in enumerate(out.shape) if n > 1)
    length, before = out.shape[axis], (slice(None),) * axis

    def run(start, stop):
        cut = slice(start, stop)
        work(out[before + (cut,)], *(_cut(operand, axis - out.ndim, length, cut) for operand in operands))
    parallel_for(length, run, math.ceil(MIN_ELEMENTS * length / size))
    return out


def _cut(operand, axis, length, cut):
    """The part of ``operand`` along ``axis`` (counted from the end) that ``cut`` takes, or all of it where it
    broadcasts along that axis (a length of 1, or fewer dims)."""
    if not isinstance(operand, numpy.ndarray) or operand.ndim < -axis or operand.shape[axis] != length:
        return operand
    return operand[(Ellipsis, cut) + (slice(None),) * (-axis - 1)]


def ufunc(function, *operands, out=None, **kwargs):
    """``function(*operands, out=out, **kwargs)`` for a NumPy ufunc of one output, in parts at once when the result
    is large and every array operand C-contiguous (so the new result has the layout the one call gives); ``out``
    may be an operand itself, but must not otherwise overlap one."""
    if out is None:
        for operand in operands:   # small arrays return at once: this is every op's per-call cost
            if type(operand) is _ndarray and operand.size >= 2 * MIN_ELEMENTS:
                break
        else:
            return function(*operands, **kwargs)
        out = _result(function, operands, kwargs)
        if out is None:
            return function(*operands, **kwargs)
    elif out.size < 2 * MIN_ELEMENTS or type(out) is not _ndarray:   # map_chunks' one-call test, without its frames
        return function(*operands, out=out, **kwargs)
    return map_chunks(lambda part, *parts: function(*parts, out=part, **kwargs), out, *operands)


def binary(function, a, b):
    """``ufunc(function, a, b)``: the same, with the small-operand check of two operands inline (the per-call cost
    of every binary op)."""
    if (type(a) is _ndarray and a.size >= 2 * MIN_ELEMENTS) or (type(b) is _ndarray and b.size >= 2 * MIN_ELEMENTS):
        return ufunc(function, a, b)
    return function(a, b)


def _result(function, operands, kwargs):
    """A new C-contiguous array for ``function(*operands)``'s result where it is large and every array operand
    C-contiguous (the layout the one call would give it), else None."""
    size = 0
    for operand in operands:
        if isinstance(operand, numpy.ndarray):
            if not operand.flags.c_contiguous:
                return None
            size = max(size, operand.size)
    if size < 2 * MIN_ELEMENTS:
        return None
    shape = numpy.broadcast_shapes(*(o.shape for o in operands if isinstance(o, numpy.ndarray)))
    empty = function(*(o.reshape(-1)[:0] if isinstance(o, numpy.ndarray) else o for o in operands), **kwargs)
    return _buffers.empty(numpy, shape, empty.dtype)


FLOAT64_BLOCK = 1 << 16
"""Elements per block of ``in_float64_blocks``: the ~100 passes of a rational fit (erf's) then run on data in the
core's L2 cache instead of memory (erf of a million float32 elements 53 -> 13 ms at one thread)."""


def in_float64_blocks(function, *arrays):
    """``function`` of float64 copies of NumPy arrays of one shape, elementwise, a ``FLOAT64_BLOCK`` at a time on the
    intra-op threads, as an array of the first one's dtype; None unless they are such arrays of two blocks or more."""
    first = arrays[0]
    if type(first) is not _ndarray or first.ndim == 0 or first.size < 2 * FLOAT64_BLOCK or \
            any(type(a) is not _ndarray or a.shape != first.shape for a in arrays):
        return None
    flats = [numpy.ascontiguousarray(a).reshape(-1) for a in arrays]
    out = _buffers.empty(numpy, flats[0].shape, first.dtype)

    def run(start, stop):
        for low in range(start, stop, FLOAT64_BLOCK):
            high = min(stop, low + FLOAT64_BLOCK)
            out[low:high] = function(*(flat[low:high].astype(numpy.float64) for flat in flats))
    parts(out.size, out.size, run)
    return out.reshape(first.shape)


BLOCK = 1 << 15
"""Elements per block of a kernel that has no ``out`` (``where``): each block's result is copied into place while
it is still in cache."""


def where(xp, condition, a, b):
    """``xp.where(condition, a, b)``; for large NumPy arrays in parts at once (``numpy.where`` has no ``out``, so
    each part is computed in cache-sized blocks and copied into place)."""
    out = None
    if xp is numpy and max(getattr(condition, "size", 0), getattr(a, "size", 0), getattr(b, "size", 0)) >= \
            2 * MIN_ELEMENTS:
        out = _result(numpy.where, (condition, a, b), {})
    if out is None:
        return xp.where(condition, a, b)
    return map_chunks(_where_into, out, condition, a, b)


def _where_into(out, condition, a, b):
    rows = max(1, BLOCK * out.shape[0] // out.size)
    bits = _BITS.get(out.dtype.itemsize) if out.dtype.kind in "biuf" and condition.dtype == bool else None
    for start in range(0, out.shape[0], rows):
        cut = slice(start, start + rows)
        parts = (_cut(o, -out.ndim, out.shape[0], cut) for o in (condition, a, b))
        if bits is None:
            out[cut] = numpy.where(*parts)
        else:
            _select_into(out[cut], *parts, bits)


_BITS = {1: numpy.int8, 2: numpy.int16, 4: numpy.int32, 8: numpy.int64}


def _select_into(out, condition, a, b, bits):
    """out = a where condition else b, on the values' bits: b ^ ((a ^ b) & -condition). ``numpy.where`` branches
    per element, and on a random condition (the sign of activations) runs ~3x slower than these three passes."""
    o = out.view(bits)
    a, b = (numpy.asarray(v, out.dtype).view(bits) for v in (a, b))
    numpy.bitwise_xor(a, b, out=o)
    numpy.bitwise_and(o, numpy.negative(condition.view(numpy.int8), dtype=bits), out=o)
    numpy.bitwise_xor(o, b, out=o)


_WHERE_MAX = 4096
"""Elements below which ``gradient_where`` selects with one ``where`` call: it branches per element (on a random
mask 19 us for 4,096 float32 against 5.6 for the bit select's three calls; 1.8 against 6.8 at 1,024)."""


def gradient_where(xp, grad, mask, out=None):
    """``grad`` where the boolean ``mask`` holds, else +0 (broadcasting), for large NumPy arrays in parts at once:
    PyTorch's backward kernels select (``mask ? grad : 0``), where a product with the mask gives -0 for a negative
    gradient and NaN for a NaN one. The gradient's bits are ANDed with the mask widened to all ones, as fast as the
    product (``numpy.where`` runs ~5x slower on a random mask); complex128, with no integer of its width, takes
    ``where``."""
    if out is None and grad.shape == mask.shape and grad.size < _WHERE_MAX:   # tiny: one call
        return xp.where(mask, grad, xp.zeros((), grad.dtype))
    bits = _BITS.get(grad.dtype.itemsize)
    if bits is None or grad.dtype.kind == "b":
        return where(xp, mask, grad, xp.zeros((), grad.dtype))
    if out is None:
        shape = grad.shape if grad.shape == mask.shape else xp.broadcast_shapes(grad.shape, mask.shape)
        out = xp.empty(shape, grad.dtype)

    def select(out, grad, mask):
        ones = xp.negative(xp.asarray(mask).view(xp.int8), dtype=bits)   # True -> -1: every bit set
        xp.bitwise_and(xp.asarray(grad).view(bits), ones, out=out.view(bits))
    if out.size < 2 * MIN_ELEMENTS:   # one part (map_chunks' own test, without its frame: every relu's backward)
        select(out, grad, mask)
        return out
    return map_chunks(select, out, grad, mask)


def assign(target, source):
    """``target[...] = source`` (a copy, broadcasting and casting as indexing does), in parts at once when large."""
    return map_chunks(_assign, target, source)


def zeros(xp, shape, dtype):
    """A zero-filled array of ``shape`` and ``dtype`` from the pool of large arrays (``_buffers``), filled in parts
    at once."""
    return assign(_buffers.empty(xp, shape, dtype), 0)


def _assign(target, source):
    chunk = _aliasing_chunk(target, source)
    if chunk is None:
        target[...] = source
        return
    for start in range(0, target.shape[-1], chunk):
        target[..., start:start + chunk] = source[..., start:start + chunk]


L1_SET_SPAN = 4096
"""Bytes of memory that map onto all of an L1 data cache's sets once (64 sets of 64-byte lines, x86 and ARM)."""

L1_WAYS = 8
"""Lines each L1 data cache set holds (8-way on the x86 cores measured)."""


def _aliasing_chunk(target, source):
    """How many elements of the last axis to copy at a time where ``source`` steps through it by a multiple of a
    large power of two (a transposed copy of a (256, 4096) float32 array, or of a 32x32 map's channels): every
    element of one pass then falls into the same few L1 sets, which hold ``L1_WAYS`` lines each, and NumPy's one
    copy refetches each line for every element (256 x 4096 transposed: 2.9 ms, in chunks of 8 columns 0.66; NCHW ->
    NHWC of (32, 64, 32, 32): 5.9 -> 1.5 ms). None where one copy is as good."""
    if type(source) is not _ndarray or source.ndim < 2 or source.shape != target.shape or \
            target.strides[-1] != target.itemsize:
        return None
    stride = abs(source.strides[-1])
    power = stride & -stride
    if power < 512:
        return None
    chunk = L1_WAYS * L1_SET_SPAN // min(power, L1_SET_SPAN)
    return chunk if chunk < target.shape[-1] else None


def _forget_pool_after_fork():
    # A forked child (a DataLoader worker) has none of the parent's threads: start a fresh pool if it needs one.
    _state["pool"] = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)
