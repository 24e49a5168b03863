"""Arrays derived from a weight (Winograd's transformed kernels, depthwise convolutions' bands), kept between calls
while the weight's bits stay the same: an evaluation multiplies by the same weights every call, and rebuilding such an
array can cost more than the products it feeds (G w G^T of a 512 -> 512 3x3 weight: 6.0 ms at one thread, a third of
its layer's forward over 4x4 maps; a band 30-230 us, a tenth of MobileNetV2's evaluation in all).

An entry belongs to the weight array it was built from (its ``id``, shape and dtype; let go when that array is), but
what decides is the weight's content: a copy of the weight is kept beside what was built from it and compared bit for
bit with the weight of each call (0.55 ms for that weight, a tenth of its transform). So writes that bypass
autograd's version counter (through ``.numpy()``, ``.data``, ``__array_interface__``, another library sharing the
memory) cannot go unseen, nor can a NaN's payload or a zero's sign. Only NumPy arrays are kept.
"""
import ctypes
import sys
import threading
import weakref

import numpy

__all__ = []

MAX_BYTES = 1 << 27
"""Bytes of kept arrays and weight copies at most: VGG-11's transformed 3x3 weights over its 16x16 to 2x2 maps and
their copies take ~100 MB, ResNet-18's over 8x8 to 2x2 ~26 MB, MobileNetV2's bands a few MB. When full, entries
unused for ``STALE_CALLS`` calls make room, else a new one is not kept (so that a model larger than the budget keeps
what it can, rather than each call evicting what a later one needs)."""
STALE_CALLS = 1000
"""Calls after which an entry not used since may make room for another (an evaluation of ResNet-18 or MobileNetV2
makes 10-20, a MobileNetV2 training step ~35)."""


class _Entry:
    __slots__ = ("copy", "owner", "result", "used")

    def __init__(self, owner, copy, result, used):
        self.owner, self.copy, self.result, self.used = owner, copy, result, used


_KEPT = {}   # (kind, id of the weight, shape, dtype) -> _Entry
_lock = threading.RLock()   # reentrant: a weight let go while it is held (a garbage collection) drops its entry
_calls = [0]


def derived(kind, weight, build):
    """``build(weight)``, or the array it gave for ``kind`` from this weight array when its bits were the same as now
    (kept read only for later calls). ``build`` must depend on nothing else but ``kind``."""
    if not isinstance(weight, numpy.ndarray):
        return build(weight)
    key = (kind, id(weight), weight.shape, weight.dtype.str)
    with _lock:
        _calls[0] += 1
        entry = _KEPT.get(key)
    if entry is not None and entry.owner() is weight and _same_bits(entry.copy, weight):
        entry.used = _calls[0]
        return entry.result
    result = build(weight)
    if isinstance(result, numpy.ndarray):
        _keep(key, weight, result)
    return result


def room(kind, weight, nbytes):
    """Whether ``derived`` holds an entry for ``kind`` from this weight array, or would keep a new one of ``nbytes``
    (beside the weight's copy) now: for a path that wins only while what it builds is kept."""
    if not isinstance(weight, numpy.ndarray):
        return False
    key = (kind, id(weight), weight.shape, weight.dtype.str)
    with _lock:
        entry = _KEPT.get(key)
        if entry is not None and entry.owner() is weight:
            return True
        entries = list(_KEPT.values())
    held = sum(e.copy.nbytes + e.result.nbytes for e in entries if e.used >= _calls[0] - STALE_CALLS)
    return held + weight.nbytes + nbytes <= MAX_BYTES


def _keep(key, weight, result):
    size = weight.nbytes + result.nbytes
    with _lock:
        _KEPT.pop(key, None)
        entries = list(_KEPT.items())   # a weight let go meanwhile (its entry dropped) changes no list of these
        held = sum(e.copy.nbytes + e.result.nbytes for _, e in entries)
        if held + size > MAX_BYTES:
            for stale, entry in entries:
                if entry.used < _calls[0] - STALE_CALLS and _KEPT.pop(stale, None) is entry:
                    held -= entry.copy.nbytes + entry.result.nbytes
        if held + size > MAX_BYTES:
            return
        copy = weight.copy()
        copy.flags.writeable = result.flags.writeable = False
        _KEPT[key] = _Entry(weakref.ref(weight, lambda ref: _forget(key, ref)), copy, result, _calls[0])


def _forget(key, ref):
    with _lock:
        if key in _KEPT and _KEPT[key].owner is ref:
            del _KEPT[key]


def _memcmp():
    """The C library's ``memcmp`` through ctypes, or None where it cannot be found."""
    try:
        function = (ctypes.cdll.msvcrt if sys.platform == "win32" else ctypes.CDLL(None)).memcmp
    except (OSError, AttributeError):
        return None
    function.restype, function.argtypes = ctypes.c_int, (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
    return function


_MEMCMP = _memcmp()


def _same_bits(kept, weight):
    """Whether two arrays of one shape and dtype hold the same bytes (so NaNs with equal payloads are equal and zeros
    of two signs are not): by ``memcmp`` where both are C-contiguous (one read of each, no mask: 0.63 -> 0.24 ms for a
    512 x 512 3x3 float32 weight at one thread, a call of ResNet-18's evaluation each), else as unsigned integers of
    the items' width."""
    if _MEMCMP is not None and kept.flags.c_contiguous and weight.flags.c_contiguous and not kept.dtype.hasobject:
        return kept.nbytes == weight.nbytes and (not kept.nbytes or _MEMCMP(kept.ctypes.data, weight.ctypes.data,
                                                                            kept.nbytes) == 0)
    if kept.dtype.itemsize in (1, 2, 4, 8) and not kept.dtype.hasobject:
        unsigned = numpy.dtype(f"u{kept.dtype.itemsize}")
        return bool(numpy.array_equal(kept.view(unsigned), weight.view(unsigned)))
    return kept.tobytes() == weight.tobytes()


def clear():
    """Lets go of every kept array."""
    with _lock:
        _KEPT.clear()
