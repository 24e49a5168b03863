"""Tensors in shared memory, for processes that work on one model (Hogwild training, ``ember.multiprocessing``).

``share_memory_()`` moves a CPU tensor's data into a POSIX shared-memory block owned by this process (unlinked when it
exits). A shared tensor pickled for another process (through ``multiprocessing``'s pickler: Process arguments under
'spawn', queues, ``ember.multiprocessing.spawn``) travels as the block's name and the receiver maps the same memory;
other tensors travel as a copy of their data. Under 'fork' the children simply inherit the mapping.
"""
import atexit
import mmap
import os
from multiprocessing import shared_memory
from multiprocessing.reduction import ForkingPickler

import numpy

from .._tensor import Tensor, _make
from ._util import tensor_method

__all__ = []

_owned = {}       # name -> SharedMemory this process created
_attached = {}    # name -> SharedMemory this process mapped from another's
_owner_pid = os.getpid()


def _address(block):
    return numpy.frombuffer(block.buf, numpy.uint8).__array_interface__["data"][0]


def _block_of(array):
    """The shared-memory block (of this process's mappings) holding an array's data, and the data's offset in it."""
    if not isinstance(array, numpy.ndarray):
        return None, 0
    address = array.__array_interface__["data"][0]
    for block in (*_owned.values(), *_attached.values()):
        start = _address(block)
        if start <= address < start + block.size:
            return block, address - start
    return None, 0


def _wrap(block, shape, dtype, offset=0, strides=None):
    return numpy.ndarray(shape, dtype, buffer=block.buf, offset=offset, strides=strides)


@tensor_method
def share_memory_(self):
    """Moves the data into shared memory (a no-op for CUDA tensors and tensors already shared); returns self."""
    if self.device.type != "cpu" or is_shared(self):
        return self
    data = self._data
    block = shared_memory.SharedMemory(create=True, size=max(data.nbytes, 1))
    _owned[block.name] = block
    shared = _wrap(block, data.shape, data.dtype)
    shared[...] = data
    self._data = shared
    return self


@tensor_method
def is_shared(self):
    """True when the data lives in shared memory."""
    return _block_of(self._data)[0] is not None


class _Mapping:
    """Another process's shared-memory block mapped into this one, left out of multiprocessing's resource tracker:
    the creator, not this process, unlinks it. (``SharedMemory(name=)`` registers every mapping; a tracker of this
    process's own would unlink the block when it exits, and the tracker a spawned or forked child shares with its
    parent keeps one entry per name, so unregistering here made the creator's own unlink fail in the tracker with a
    KeyError traceback on stderr.)"""

    def __init__(self, name):
        from multiprocessing.shared_memory import _posixshmem
        fd = _posixshmem.shm_open("/" + name, os.O_RDWR, mode=0o600)
        try:
            self.size = os.fstat(fd).st_size
            self._mmap = mmap.mmap(fd, self.size)
        finally:
            os.close(fd)
        self.name = name
        self.buf = memoryview(self._mmap)


def _attach(name):
    block = _attached.get(name) or _owned.get(name)
    if block is None:
        block = _attached[name] = _Mapping(name)
    return block


def _rebuild_shared(name, shape, dtype, offset, strides, requires_grad):
    block = _attach(name)
    return _make(_wrap(block, shape, dtype, offset, strides), requires_grad)


def _rebuild_copy(array, requires_grad):
    return _make(array, requires_grad)


def _reduce_tensor(tensor):
    """Pickles a shared tensor as its block's name and place in it, any other CPU tensor as a copy of its data."""
    data = tensor._data
    block, offset = _block_of(data)
    if block is None:
        return _rebuild_copy, (numpy.asarray(tensor.detach().cpu().numpy()), tensor.requires_grad)
    return _rebuild_shared, (block.name, data.shape, data.dtype, offset, data.strides, tensor.requires_grad)


def _release():
    """Unlinks the blocks this process created (not from forked children, which inherit this hook)."""
    if os.getpid() != _owner_pid:
        return
    for block in list(_owned.values()):
        try:
            block.close()
        except BufferError:   # arrays still map it: the memory goes when the process does
            pass
        block.unlink()
    _owned.clear()


atexit.register(_release)
ForkingPickler.register(Tensor, _reduce_tensor)
