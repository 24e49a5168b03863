"""The memory a tensor views, as PyTorch hands it out: ``Tensor.untyped_storage()`` (its bytes) and the deprecated
``Tensor.storage()`` (its elements in the tensor's dtype). Each wraps a flat array over the owning allocation, with
no copy, so ``data_ptr()`` and ``nbytes()`` tell which tensors share memory, as in PyTorch."""
import mmap
import os
import warnings

import numpy

from . import _backend, _dtype
from ._tensor import Tensor, _owner

__all__ = ["UntypedStorage", "TypedStorage"]


class UntypedStorage:
    """The bytes of one allocation: ``data_ptr()``, ``nbytes()``, ``size()`` (bytes), ``device``, and its values."""

    filename = None   # the file a storage from ``from_file(..., shared=True)`` writes through to
    _mapped = False   # whether the memory is a file mapping (``from_file``)

    def __init__(self, data):
        self._data = data

    @classmethod
    def from_file(cls, filename, shared=False, nbytes=0):
        """The first ``nbytes`` bytes of a file, memory-mapped: with ``shared`` writes reach the file (which is
        created, or grown, to ``nbytes``); otherwise the mapping is private, copy-on-write."""
        mode = "read-write" if shared else "read-only"
        try:
            fd = os.open(filename, os.O_RDWR | os.O_CREAT if shared else os.O_RDONLY, 0o600)
        except OSError as error:
            raise RuntimeError(f"unable to open file <{filename}> in {mode} mode: {error.strerror} "
                               f"({error.errno})") from None
        try:
            size = os.fstat(fd).st_size
            if size < nbytes:
                if not shared:
                    raise RuntimeError(f"file <{filename}> size <{size}> is smaller than the required mapping size "
                                       f"<{nbytes}>")
                os.ftruncate(fd, nbytes)
            if nbytes:
                access = mmap.ACCESS_WRITE if shared else mmap.ACCESS_COPY
                data = numpy.frombuffer(mmap.mmap(fd, nbytes, access=access), numpy.uint8)
            else:
                data = numpy.empty(0, numpy.uint8)
        finally:
            os.close(fd)
        storage = cls(data)
        storage._mapped = True
        if shared:
            storage.filename = os.fsdecode(filename)
        return storage

    def untyped(self):
        """This storage (already untyped)."""
        return self

    def is_shared(self):
        """Whether other processes can see this memory: a file mapping's can."""
        return self._mapped

    def data_ptr(self):
        """The address of the first byte."""
        data = self._data
        return data.__array_interface__["data"][0] if isinstance(data, numpy.ndarray) else data.data.ptr

    def nbytes(self):
        """The size in bytes."""
        return int(self._data.nbytes)

    def size(self):
        """The number of elements (bytes, for an untyped storage)."""
        return int(self._data.size)

    def __len__(self):
        return self.size()

    def element_size(self):
        """The bytes per element (1, for an untyped storage)."""
        return int(self._data.itemsize)

    @property
    def device(self):
        """The device holding the memory."""
        return _backend.device_of(self._data)

    def tolist(self):
        """The elements as a list of Python numbers."""
        return _on_host(self._data).tolist()

    def __getitem__(self, index):
        """An element as a Python number, or for a slice (step 1) a storage over that part of the memory, no copy;
        a tensor made from it sees that part as a whole storage, as PyTorch's does."""
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self._data))
            if step != 1:
                raise RuntimeError("slices with steps are not supported by storages")
            part = self._data[start:max(start, stop)]
            if type(part) is numpy.ndarray:
                part = numpy.asarray(_Region(part))   # its own owner: a tensor over it reports this storage
            storage = type(self)(part)
            storage._mapped = self._mapped
            return storage
        value = self._data[index]
        return (value if isinstance(value, numpy.generic) else _on_host(value)).tolist()

    def __setitem__(self, index, value):
        self._data[index] = value

    def __repr__(self):
        values = "\n".join(f" {v}" for v in self.tolist()[:20]) + ("\n ..." if self.size() > 20 else "")
        return f"{values}\n[{type(self).__module__}.{type(self).__name__}(device={self.device}) of size {self.size()}]"


class TypedStorage(UntypedStorage):
    """The elements of one allocation in a dtype (PyTorch's deprecated storage type)."""

    @property
    def dtype(self):
        """The element type."""
        return _dtype.from_numpy(self._data.dtype)

    def untyped(self):
        """The same memory as bytes."""
        return UntypedStorage(self._data.view(numpy.uint8))


class _Region:
    """Presents part of an array as a separate allocation (the array a tensor's storage is read from stops at it),
    keeping the memory it views alive."""

    def __init__(self, array):
        self._array = array
        self.__array_interface__ = array.__array_interface__


def _on_host(array):
    return _backend.move(array, _backend.device("cpu"))


def _allocation(array):
    """``array``'s owning allocation as a flat array of its dtype (the owner ``storage_offset`` counts from)."""
    if not isinstance(array, numpy.ndarray):   # a CuPy array: its whole memory block
        memory = array.data.mem
        xp = _backend.xp_of(array)
        return xp.ndarray((memory.size // array.itemsize,), array.dtype, xp.cuda.MemoryPointer(memory, 0))
    return numpy.ravel(_owner(array), order="K")


def untyped_storage(self):
    """The bytes of the memory this tensor views (shared with every tensor viewing the same allocation)."""
    return UntypedStorage(_allocation(self._data).view(numpy.uint8))


def storage(self):
    """The memory this tensor views, as elements of its dtype (deprecated in PyTorch: use ``untyped_storage``)."""
    warnings.warn("TypedStorage is deprecated. It will be removed in the future and UntypedStorage will be the only "
                  "storage class. This should only matter to you if you are using storages directly.  To access "
                  "UntypedStorage directly, use tensor.untyped_storage() instead of tensor.storage()", UserWarning,
                  stacklevel=2)
    return TypedStorage(_allocation(self._data))


Tensor.untyped_storage = untyped_storage
Tensor.storage = storage
