"""Moving a batch from a worker process to the main process through shared memory, so arrays are never pickled.

The worker writes every tensor and NumPy array of a batch into one ``SharedMemory`` block whose name the main
process chose, and sends only the batch's structure with ``_SharedArray`` placeholders (offset, shape, dtype). The
main process copies the arrays out and unlinks the block at once. Because the main process names every block before
a worker creates it, it can also unlink the blocks of batches still in flight when it shuts the workers down.
"""
import os
import threading
from multiprocessing import resource_tracker, shared_memory

import numpy

import ember

from .collate import _rebuild_mapping

_ALIGNMENT = 64


def _fork_safe_resource_tracker():
    """Forks with the resource tracker's lock held by the forking thread, and gives the child a fresh lock.

    ``SharedMemory`` registers each block with the resource tracker under that lock. A forked worker inherits the
    lock as it was at the fork; if another thread (a garbage-collected block's finalizer, say) held it then, the
    worker's first ``SharedMemory`` waits forever (Python 3.11's tracker has no at-fork handling)."""
    tracker = resource_tracker._resource_tracker

    def reinit():
        tracker._lock = threading.RLock()
    os.register_at_fork(before=lambda: tracker._lock.acquire(), after_in_parent=lambda: tracker._lock.release(),
                        after_in_child=reinit)


_fork_safe_resource_tracker()


class _SharedArray:
    """Where one array of a packed batch lies in the batch's shared-memory block."""

    __slots__ = ("offset", "shape", "dtype", "is_tensor")

    def __init__(self, offset, shape, dtype, is_tensor):
        self.offset, self.shape, self.dtype, self.is_tensor = offset, shape, dtype, is_tensor

    def __reduce__(self):
        return _SharedArray, (self.offset, self.shape, self.dtype, self.is_tensor)


class PackedBatch:
    """A batch's structure with ``_SharedArray`` placeholders, and the name of the block holding the arrays."""

    __slots__ = ("structure", "shm_name")

    def __init__(self, structure, shm_name):
        self.structure, self.shm_name = structure, shm_name

    def __reduce__(self):
        return PackedBatch, (self.structure, self.shm_name)


def _map_leaves(obj, leaf_type, fn):
    """``obj`` with ``fn`` applied to each leaf of ``leaf_type`` inside dicts, lists, tuples and namedtuples."""
    if isinstance(obj, leaf_type):
        return fn(obj)
    if isinstance(obj, dict):
        return _rebuild_mapping(obj, {key: _map_leaves(value, leaf_type, fn) for key, value in obj.items()})
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(_map_leaves(item, leaf_type, fn) for item in obj))
    if type(obj) in (list, tuple):
        return type(obj)(_map_leaves(item, leaf_type, fn) for item in obj)
    return obj


def pack(batch, shm_name):
    """Writes the tensors and arrays of ``batch`` into a new block named ``shm_name``; returns a ``PackedBatch``."""
    arrays = []

    def place(leaf):
        is_tensor = isinstance(leaf, ember.Tensor)
        array = numpy.asarray(leaf.detach()) if is_tensor else leaf
        offset = _aligned(arrays[-1][0] + arrays[-1][1].nbytes) if arrays else 0
        arrays.append((offset, array))
        return _SharedArray(offset, array.shape, array.dtype, is_tensor)

    structure = _map_leaves(batch, (ember.Tensor, numpy.ndarray), place)
    if not arrays:
        return PackedBatch(structure, None)
    size = arrays[-1][0] + arrays[-1][1].nbytes
    block = shared_memory.SharedMemory(name=shm_name, create=True, size=max(size, 1))
    try:
        for offset, array in arrays:
            numpy.ndarray(array.shape, array.dtype, buffer=block.buf, offset=offset)[...] = array
    finally:
        block.close()
    return PackedBatch(structure, shm_name)


def _aligned(offset):
    return -(-offset // _ALIGNMENT) * _ALIGNMENT


def unpack(packed):
    """The batch of a ``PackedBatch``, with its arrays copied out of shared memory; the block is unlinked."""
    if packed.shm_name is None:
        return packed.structure
    block = shared_memory.SharedMemory(name=packed.shm_name)
    try:
        def restore(placeholder):
            view = numpy.ndarray(placeholder.shape, placeholder.dtype, buffer=block.buf, offset=placeholder.offset)
            array = view.copy()
            del view
            return ember.from_numpy(array) if placeholder.is_tensor else array

        return _map_leaves(packed.structure, _SharedArray, restore)
    finally:
        block.close()
        block.unlink()


def unlink(shm_name):
    """Removes the block named ``shm_name`` if a worker created it; a no-op otherwise."""
    try:
        block = shared_memory.SharedMemory(name=shm_name)
    except FileNotFoundError:
        return
    block.close()
    block.unlink()
