"""The memory a tensor views, as PyTorch hands it out: ``Tensor.untyped_storage()`` (its bytes) and the deprecated
``Tensor.storage()`` (its elements in the tensor's dtype). Each wraps a flat array over the owning allocation, with
no copy, so ``data_ptr()`` and ``nbytes()`` tell which tensors share memory, as in PyTorch."""
import mmap
import os

import numpy

from ._warnings import warn
from . import _backend, _dtype
from ._tensor import Tensor, _owner

__all__ = ["StorageBase", "UntypedStorage", "TypedStorage"]


def _load_from_bytes(b):
    """A storage PyTorch pickled as the bytes of its ``torch.save`` (how a plain pickle of a tensor holds its data),
    loaded as ``torch.load`` would."""
    import io
    from .serialization import load
    return load(io.BytesIO(b), weights_only=False)


class StorageBase:
    """``torch.StorageBase`` (``torch._C.StorageBase``): the base class of UntypedStorage, which libraries test
    storages against (tensordict's memory-mapped tensors)."""

    __module__ = "ember._C"


class UntypedStorage(StorageBase):
    """The bytes of one allocation: ``data_ptr()``, ``nbytes()``, ``size()`` (bytes), ``device``, and its values."""

    filename = None   # the file a storage from ``from_file(..., shared=True)`` writes through to
    _mapped = False   # whether the memory is a file mapping (``from_file``)

    def __init__(self, data=(), *, device=None):
        """``UntypedStorage(size)`` (zeroed bytes), ``UntypedStorage([byte, ...])`` or ``UntypedStorage()`` as in
        PyTorch, on ``device``; ember passes the array itself."""
        if not isinstance(data, numpy.ndarray) and not hasattr(data, "__cuda_array_interface__"):
            data = self._allocate(data, _backend.as_device(device) if device is not None else _backend.CPU)
        self._data = data

    @classmethod
    def _allocate(cls, data, device):
        where = f"torch.{cls.__name__}()"
        if isinstance(data, int) and not isinstance(data, bool):
            if data < 0:
                raise RuntimeError(f"{where}: the size must be non-negative, got {data}")
            array = numpy.zeros(data, numpy.uint8)
        else:
            if not hasattr(data, "__iter__") or not hasattr(data, "__len__"):
                raise RuntimeError(f"{where}: Expected a sequence type, but got {type(data).__name__}")
            for item in data:
                if not isinstance(item, int):
                    raise RuntimeError(f"{where}: tried to construct a storage from a sequence "
                                       f"({type(data).__name__}), but one of the items was of type "
                                       f"{type(item).__name__} instead of int")
            array = numpy.array(list(data), numpy.int64).astype(numpy.uint8)   # wrapping, as PyTorch's byte casts
        return _backend.move(array, device) if device.type != "cpu" else array

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

    def __init__(self, data=(), *, device=None, dtype=None):
        """``TypedStorage(size)`` (zeros) or ``TypedStorage(sequence)`` of ``dtype`` (the default dtype when
        None), with PyTorch's deprecation warning; ember passes the array itself."""
        if not isinstance(data, numpy.ndarray) and not hasattr(data, "__cuda_array_interface__"):
            _warn_typed_storage_removal(stacklevel=2)
            kind = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
            if isinstance(data, int) and not isinstance(data, bool):
                array = numpy.zeros(data, kind.numpy)
            else:
                array = numpy.array(list(data), kind.numpy)
            device = _backend.as_device(device) if device is not None else _backend.CPU
            data = _backend.move(array, device) if device.type != "cpu" else array
        self._data = data

    @property
    def dtype(self):
        """The element type."""
        return _dtype.from_numpy(self._data.dtype)

    def untyped(self):
        """The same memory as bytes."""
        return UntypedStorage(self._data.view(numpy.uint8))


class _LegacyStorageMeta(type):
    """Makes ``isinstance(storage, FloatStorage)`` true of a CPU TypedStorage of that dtype, and ``FloatStorage.dtype``
    the class's element type (with the deprecation warning), as PyTorch's legacy storage classes."""

    def __instancecheck__(cls, instance):   # any TypedStorage: a loaded one's class is a subclass
        return isinstance(instance, TypedStorage) and instance.device.type == "cpu" and instance.dtype is cls._dtype

    @property
    def dtype(cls):
        _warn_typed_storage_removal(stacklevel=2)
        return cls._dtype


class _LegacyStorage(TypedStorage, metaclass=_LegacyStorageMeta):
    """The base of ``torch.FloatStorage`` and its kin: calling one makes a CPU TypedStorage of its dtype."""

    _dtype = None

    def __new__(cls, *args, wrap_storage=None, dtype=None, device=None):
        if cls._dtype is None:
            raise RuntimeError("Only child classes of _LegacyStorage can be instantiated")
        message = (f"{cls}.__new__ received an invalid combination of arguments. Expected one of:\n * no arguments\n"
                   " * (int size)\n * (Sequence data)\n * (*, UntypedStorage wrap_storage)")
        for keyword, value in (("device", device), ("dtype", dtype)):
            if value is not None:
                raise RuntimeError(f"{message}\nKeyword argument '{keyword}' cannot be specified")
        if wrap_storage is not None:
            if args:
                raise RuntimeError(f"{message}\nNo positional arguments should be given when using 'wrap_storage'")
            if not isinstance(wrap_storage, UntypedStorage) or isinstance(wrap_storage, TypedStorage):
                raise TypeError(f"{message}\nArgument 'wrap_storage' must be UntypedStorage, but got "
                                f"{type(wrap_storage)}")
            _warn_typed_storage_removal(stacklevel=2)
            return TypedStorage(wrap_storage._data.view(cls._dtype.numpy))
        if len(args) > 1:
            raise RuntimeError(f"{message}\nToo many positional arguments")
        data = args[0] if args else ()
        if not isinstance(data, int) and not hasattr(data, "__len__"):
            raise TypeError(f"{message}\nArgument type not recognized: {type(data)}")
        _warn_typed_storage_removal(stacklevel=2)
        kind = cls._dtype.numpy
        return TypedStorage(numpy.zeros(data, kind) if isinstance(data, int) else numpy.array(list(data), kind))


def _legacy_class(name, dtype):
    kind = _LegacyStorageMeta(name, (_LegacyStorage,), {"_dtype": dtype, "__module__": "ember",
                                                         "__doc__": f"A legacy storage of {dtype} elements."})
    kind.__qualname__ = name
    return kind


LEGACY_STORAGES = {dtype: _legacy_class(name, dtype) for name, dtype in (
    ("BoolStorage", _dtype.bool_), ("ByteStorage", _dtype.uint8), ("CharStorage", _dtype.int8),
    ("ShortStorage", _dtype.int16), ("IntStorage", _dtype.int32), ("LongStorage", _dtype.int64),
    ("HalfStorage", _dtype.float16), ("BFloat16Storage", _dtype.bfloat16), ("FloatStorage", _dtype.float32),
    ("DoubleStorage", _dtype.float64), ("ComplexFloatStorage", _dtype.complex64),
    ("ComplexDoubleStorage", _dtype.complex128))}
"""``torch.FloatStorage`` and its kin by element type (torch's quantized ones are not among them)."""
globals().update({kind.__name__: kind for kind in LEGACY_STORAGES.values()})
__all__ += [kind.__name__ for kind in LEGACY_STORAGES.values()]


def storage_type(self):
    """The legacy storage class of this tensor's dtype (``torch.FloatStorage`` for float32), or None where PyTorch
    has none."""
    _warn_typed_storage_removal(stacklevel=2)
    return LEGACY_STORAGES.get(self.dtype) if self.device.type == "cpu" else None


_DEPRECATED = ("TypedStorage is deprecated. It will be removed in the future and UntypedStorage will be the only "
               "storage class. This should only matter to you if you are using storages directly.  To access "
               "UntypedStorage directly, use tensor.untyped_storage() instead of tensor.storage()")


_typed_storage_warned = []


def _warn_typed_storage_removal(stacklevel=2):
    """PyTorch's TypedStorage deprecation warning, the first time only (every time after
    ``_set_always_warn_typed_storage_removal(True)``); ``stacklevel`` counts from the caller of this function."""
    if _always_warn[0] or not _typed_storage_warned:
        warn(_DEPRECATED, UserWarning, stacklevel=stacklevel + 1)   # past __torch_function__'s wrappers too
        _typed_storage_warned.append(True)


def _reset_warn_typed_storage_removal():
    """The next TypedStorage use warns again."""
    _typed_storage_warned.clear()


_always_warn = [False]


def _set_always_warn_typed_storage_removal(always_warn):
    """Whether every TypedStorage use warns (PyTorch's switch for its tests)."""
    _always_warn[0] = bool(always_warn)


def _get_always_warn_typed_storage_removal():
    return _always_warn[0]


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
    _warn_typed_storage_removal(stacklevel=2)
    return TypedStorage(_allocation(self._data))


Tensor.untyped_storage = untyped_storage
Tensor.storage = storage
Tensor.storage_type = storage_type
