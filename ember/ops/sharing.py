"""Tensors in shared memory, for Hogwild-style training across processes: ``share_memory_`` moves a CPU tensor's
data into a memory file that forked children map as well, and that spawned children map through its file
descriptor (multiprocessing passes it), as PyTorch's file-descriptor sharing strategy does."""
import mmap
import os

import numpy

from .._tensor import _make
from ._util import tensor_method


class _SharedMap(mmap.mmap):
    """A shared mapping of a memory file, which keeps the file's descriptor for handing to other processes."""

    @classmethod
    def create(cls, nbytes):
        fd = os.memfd_create("ember-shared-tensor", os.MFD_CLOEXEC)
        os.ftruncate(fd, max(nbytes, 1))
        return cls.attach(fd, nbytes)

    @classmethod
    def attach(cls, fd, nbytes):
        block = cls(fd, max(nbytes, 1))
        block.fd = fd
        return block

    def __del__(self):
        os.close(self.fd)


def _shared_block(array):
    while array is not None and not isinstance(array, _SharedMap):
        array = getattr(array, "base", None)
    return array


@tensor_method
def share_memory_(self):
    """Moves this CPU tensor's data to shared memory (a no-op when already shared, or on a GPU); returns self."""
    if self.device.type != "cpu" or _shared_block(self._data) is not None:
        return self
    data = self._data
    shared = numpy.ndarray(data.shape, data.dtype, buffer=_SharedMap.create(data.nbytes))
    shared[...] = data
    self._data = shared
    return self


@tensor_method
def is_shared(self):
    """True when this tensor's data lies in shared memory (after ``share_memory_``)."""
    return _shared_block(self._data) is not None


def _rebuild_shared(dup_fd, nbytes, dtype, shape, strides, offset, requires_grad):
    block = _SharedMap.attach(dup_fd.detach(), nbytes)
    return _make(numpy.ndarray(shape, dtype, buffer=block, offset=offset, strides=strides),
                 requires_grad=requires_grad)


def reduce_shared(tensor):
    """How multiprocessing pickles a shared tensor: its memory file's descriptor and its layout, not its data."""
    from multiprocessing.reduction import DupFd
    data = tensor._data
    block = _shared_block(data)
    start = numpy.frombuffer(block, numpy.uint8).ctypes.data
    return _rebuild_shared, (DupFd(block.fd), len(block), data.dtype.str, data.shape, data.strides,
                             data.ctypes.data - start, tensor.requires_grad)


