"""The writing half of ``save``: ember's objects pickled under PyTorch's names, the storages behind the tensors
(views of one memory share one storage), and the zip archive (or PyTorch's pre-1.6 format) laid out as torch writes
it, so torch.load reads it without torch ever being imported here."""
import functools
import io
import os
import pickle
import struct
import sys
import types
import typing
import zipfile
from collections import OrderedDict

import numpy

from . import _backend, _dtype
from . import _serialization_settings as _settings
from ._storage_locations import location_tag
from ._tensor import Size, Tensor, _make, subclass_state
from .ao._script_object import ScriptObject
from .storage import TypedStorage, UntypedStorage

# PyTorch's module constants (MONAI's StateCacher pickles with DEFAULT_PROTOCOL; the rest describe the legacy format)
DEFAULT_PROTOCOL = 2
MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
LONG_SIZE, INT_SIZE, SHORT_SIZE = 4, 4, 2
STORAGE_KEY_SEPARATOR = ","

_ALIGNMENT = 64
_LOCAL_HEADER_SIZE = 30
_ZIP64_EXTRA_SIZE = 20
_STORAGE_NAMES = {"bool": "BoolStorage", "uint8": "ByteStorage", "int8": "CharStorage", "int16": "ShortStorage",
                  "int32": "IntStorage", "int64": "LongStorage", "float16": "HalfStorage",
                  "bfloat16": "BFloat16Storage", "float32": "FloatStorage", "float64": "DoubleStorage",
                  "complex64": "ComplexFloatStorage", "complex128": "ComplexDoubleStorage", "qint8": "QInt8Storage",
                  "quint8": "QUInt8Storage", "qint32": "QInt32Storage"}


class _TorchGlobal:
    """A torch function or class named by text: pickles as ``GLOBAL module name`` without importing torch."""

    __slots__ = ("module", "name")
    _interned: typing.ClassVar[dict] = {}

    def __new__(cls, module, name):
        # One object per name, so the pickler memoizes it and writes each global once.
        key = (module, name)
        if key not in cls._interned:
            instance = object.__new__(cls)
            instance.module, instance.name = module, name
            cls._interned[key] = instance
        return cls._interned[key]

    def __call__(self, *args):
        """Does what the named torch function does, the ember way (the pickler requires reducers be callable)."""
        from .serialization import _torch_global
        return _torch_global(self.module, self.name)(*args)


class _StorageRef:
    """One storage in an archive being written: pickled as torch's persistent id for it."""

    __slots__ = ("data", "dtype", "key", "location")

    def __init__(self, key, dtype, location, data):
        self.key, self.dtype, self.location, self.data = key, dtype, location, data

    def persistent_id(self, untyped=False):
        if untyped or self.dtype.name not in _STORAGE_NAMES:
            return ("storage", _TorchGlobal("torch.storage", "UntypedStorage"), self.key, self.location,
                    self.data.nbytes)
        storage_type = _TorchGlobal("torch", _STORAGE_NAMES[self.dtype.name])
        return ("storage", storage_type, self.key, self.location, self.data.nbytes // self.dtype.itemsize)


class _Storages:
    """The storages behind the tensors of one save; views of the same memory share one storage, as in torch."""

    def __init__(self):
        self.refs = []
        self._by_root = {}  # id(root) -> (root, ref); root is kept so that its id stays unique

    def locate(self, tensor):
        """``(storage_ref, storage_offset, stride)`` describing ``tensor`` in element units."""
        array, location = tensor._data, location_tag(UntypedStorage(tensor._data))
        if not isinstance(array, numpy.ndarray):
            array = _backend.move(array, _backend.CPU)
        if not _has_torch_layout(array):
            array = numpy.ascontiguousarray(array)
        ref = self._ref_for(array, tensor.dtype, location)
        if ref is None:  # the memory is not one block, or this array sits misaligned in it: save a copy
            array = array.copy()
            ref = self._ref_for(array, tensor.dtype, location)
        itemsize = array.itemsize
        offset = (_address(array) - _address(ref.data)) // itemsize
        return ref, offset, _element_strides(array)

    def locate_storage(self, storage):
        """``(storage_ref, untyped)`` for a storage saved as an object of its own (torch saves its whole memory)."""
        array, location = storage._data, location_tag(storage)
        if not isinstance(array, numpy.ndarray):
            array = _backend.move(array, _backend.CPU)
        typed = isinstance(storage, TypedStorage)
        dtype = storage.dtype if typed else _dtype.uint8
        ref = self._ref_for(array, dtype, location)
        if ref is None or ref.data.nbytes != array.nbytes or _address(ref.data) != _address(array):
            ref = self._ref_for(array.copy(), dtype, location)   # a part of its memory: saved by itself
        return ref, not typed

    def _ref_for(self, array, dtype, location):
        root = _root(array)
        known = self._by_root.get(id(root))
        if known is not None:
            ref = known[1]
            if ref.dtype is not dtype:
                raise RuntimeError("Cannot save multiple tensors or storages that view the same data as different "
                                   "types")
            return ref if _fits(array, ref.data) else None
        span = _byte_span(root)
        if span is None or not _fits(array, span):
            return None
        ref = _StorageRef(str(len(self.refs)), dtype, location, span)
        self.refs.append(ref)
        self._by_root[id(root)] = (root, ref)
        return ref


def _root(array):
    """The array that owns ``array``'s memory, followed through views and as_strided wrappers."""
    while getattr(array, "base", None) is not None and hasattr(array.base, "__array_interface__"):
        array = array.base
    return array


def _address(array):
    return array.__array_interface__["data"][0]


def _byte_span(root):
    """All of ``root``'s memory as a 1-D uint8 view, or None when it is not one contiguous block."""
    root = numpy.asarray(root)
    if not (root.flags.c_contiguous or root.flags.f_contiguous):
        return None
    return root.ravel(order="K").view(numpy.uint8)


def _has_torch_layout(array):
    """True when the strides are ones torch can express: non-negative whole multiples of the item size."""
    return all(s >= 0 and s % array.itemsize == 0 for n, s in zip(array.shape, array.strides) if n > 1)


def _element_strides(array):
    """Strides in elements; a dimension of size 0 or 1, and every dimension of an empty array (whose strides NumPy
    may give as zeros), gets the row-major stride, as torch gives it."""
    strides, step = [], 1
    for n, s in zip(reversed(array.shape), reversed(array.strides)):
        strides.append(s // array.itemsize if n > 1 and array.size else step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def _fits(array, span):
    """True when ``array`` lies inside ``span`` at a whole number of its items from the start."""
    start = _address(array) - _address(span)
    if start % array.itemsize or span.nbytes % array.itemsize:
        return False
    extent = sum((n - 1) * s for n, s in zip(array.shape, array.strides) if n > 1) + array.itemsize
    return array.size == 0 or (start >= 0 and start + extent <= span.nbytes)


class _Pickler(pickle._Pickler):
    """Pickles ember tensors, dtypes, sizes and devices under torch's names.

    The pure-Python pickler is used because it lets a type write its own opcodes: torch's globals are written as
    text, where the C pickler would import torch to check them.
    """

    dispatch: typing.ClassVar[dict] = dict(pickle._Pickler.dispatch)

    def __init__(self, file, protocol, storages, legacy=False):
        super().__init__(file, protocol)
        self._storages, self._legacy = storages, legacy

    def persistent_id(self, obj):
        if isinstance(obj, UntypedStorage):   # a storage pickled by itself: a reference to its saved memory
            saved_id = _StorageRef.persistent_id(*self._storages.locate_storage(obj))
        elif type(obj) is _StorageRef:
            saved_id = obj.persistent_id()
        else:
            return None
        return saved_id + (None,) if self._legacy else saved_id   # legacy: no view

    def reducer_override(self, obj):
        torch_reduce = getattr(obj, "_torch_reduce", None)   # sparse tensors and layouts name torch's rebuild calls
        if torch_reduce is not None:
            (module, name), args = torch_reduce()
            return _TorchGlobal(module, name), args
        torch_reduce = getattr(obj, "_torch_reduce_with_storages", None)   # quantized tensors: over a storage
        if torch_reduce is not None:
            (module, name), args = torch_reduce(self._storages.locate)
            return _TorchGlobal(module, name), args
        if isinstance(obj, Tensor):
            if getattr(obj, "_pickles_itself", False):   # a lazy module's uninitialized parameter: no data to store
                return obj.__reduce_ex__(self.proto)
            return self._reduce_tensor(obj)
        if isinstance(obj, Size):
            return _TorchGlobal("torch", "Size"), (tuple(obj),)
        if isinstance(obj, _backend.device):
            return _TorchGlobal("torch", "device"), (obj.type,) if obj.index is None else (obj.type, obj.index)
        return NotImplemented

    def _reduce_tensor(self, tensor):
        """torch's reduction of a tensor: a Parameter's, or a plain tensor's wrapped in ``_rebuild_from_type_v2`` with
        its class and Python attributes when it is a subclass or has any (Tensor.__reduce_ex__)."""
        from .nn.parameter import Buffer, Parameter
        state = subclass_state(tensor)
        if isinstance(tensor, Parameter):
            args = (_make(tensor._data), tensor.requires_grad, OrderedDict())
            if state:
                return _TorchGlobal("torch._utils", "_rebuild_parameter_with_state"), args + (state,)
            return _TorchGlobal("torch._utils", "_rebuild_parameter"), args
        from .utils.hooks import warn_if_has_hooks
        warn_if_has_hooks(tensor)   # (a Parameter saves its data, a tensor without them, as in PyTorch)
        rebuild, args = self._reduce_plain_tensor(tensor)
        kind = type(tensor)
        if isinstance(tensor, Buffer):   # PyTorch's Buffer(...) is a plain tensor marked as one
            kind, state = Tensor, {**state, "_is_buffer": True}
        if kind is Tensor and not state:
            return rebuild, args
        return _TorchGlobal("torch._tensor", "_rebuild_from_type_v2"), (rebuild, kind, args, state)

    def _reduce_plain_tensor(self, tensor):
        if tensor.is_meta:   # no data: dtype, size and strides, as PyTorch writes a meta tensor
            return _TorchGlobal("torch._utils", "_rebuild_meta_tensor_no_storage"), (
                tensor.dtype, tuple(tensor.shape), tensor.stride(), tensor.requires_grad)
        ref, offset, stride = self._storages.locate(tensor)
        layout = (ref, offset, tuple(tensor.shape), stride, tensor.requires_grad, OrderedDict())
        if tensor.dtype.name not in _STORAGE_NAMES:   # dtypes without a typed storage: bytes plus the dtype
            return _TorchGlobal("torch._utils", "_rebuild_tensor_v3"), layout + (tensor.dtype,)
        return _TorchGlobal("torch._utils", "_rebuild_tensor_v2"), layout

    def _save_torch_global(self, obj):
        if self.proto >= 4:
            self.save(obj.module)
            self.save(obj.name)
            self.write(pickle.STACK_GLOBAL)
        else:
            self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
        self.memoize(obj)

    def _save_dtype(self, obj):   # dtypes and qschemes: torch.<name>
        self.save(_TorchGlobal("torch", obj.name))

    def _save_script_object(self, obj):   # as torch pickles one: made empty, then BUILD with (state, class name)
        self.save(_TorchGlobal("torch", "ScriptObject"))
        self.save(())
        self.write(pickle.NEWOBJ)
        self.memoize(obj)
        self.save(obj.__getstate__())
        self.write(pickle.BUILD)

    def save_global(self, obj, name=None):
        """Writes a class or function of ember's PyTorch-facing modules under torch's name, so torch can load a whole
        pickled model (``ember.nn.modules.conv.Conv2d`` as ``torch.nn.modules.conv.Conv2d``); loading maps it back."""
        torch_name = _public_global(obj) if name is None else None
        if torch_name is not None:
            self.save(_TorchGlobal(*torch_name))
            return
        try:
            super().save_global(obj, name)
        except pickle.PicklingError:   # a local or unimportable function or class: the C pickler's error,
            if name is not None:       # which torch.save gives (AttributeError for a local object)
                raise
            try:
                pickle.dumps(obj, self.proto)
            except (pickle.PicklingError, AttributeError) as c_error:
                raise c_error from None
            raise

    dispatch[types.FunctionType] = save_global
    dispatch[type] = pickle._Pickler.save_type   # NoneType, NotImplementedType, EllipsisType as type(x); else above
    dispatch[_TorchGlobal] = _save_torch_global
    dispatch[_dtype.dtype] = _save_dtype
    dispatch[type(_dtype.qint8)] = _save_dtype   # the quantized dtypes' class
    dispatch[_dtype.qscheme] = _save_dtype
    dispatch[ScriptObject] = _save_script_object


# Public namespaces that hold functions defined in ember's op layer, with PyTorch's names for them.
_PUBLIC_NAMESPACES = ("ember.nn.functional", "ember", "ember.linalg", "ember.special", "ember.fft")


def _public_global(obj):
    """``(module, name)`` under which torch finds the ember class or function ``obj``, or None to pickle it by its
    own name. ember's files mirror torch's, except its op layer (``ember.ops``, which torch has not) and some private
    modules, so the first found of: a public namespace holding ``obj`` (``torch.nn.functional.gelu``,
    ``torch.tanh``), for a private module the nearest public package holding it
    (``torchvision.transforms.v2.ToTensor``), then its own module (``torch.nn.modules.conv.Conv2d``)."""
    from ._alias import ember_module_name, public_name
    from .overrides import unwrapped
    module, name = ember_module_name(getattr(obj, "__module__", None)), getattr(obj, "__qualname__", None)
    if isinstance(name, str) and name.endswith(".__wrapped__"):   # behind a __torch_function__ dispatching wrapper
        name = name[:-len(".__wrapped__")]
    if not (isinstance(module, str) and isinstance(name, str)) or "." in name \
            or not (module == "ember" or module.startswith("ember.")):
        return None
    parts = module.split(".")
    candidates = list(_PUBLIC_NAMESPACES)
    private = next((i for i, part in enumerate(parts) if part.startswith("_")), None)
    if private is not None:
        candidates += [".".join(parts[:end]) for end in range(private, 1, -1)]
    candidates.append(module)
    for candidate in candidates:
        if candidate == "ember.ops" or candidate.startswith("ember.ops."):
            continue
        if unwrapped(getattr(sys.modules.get(candidate), name, None)) is unwrapped(obj):
            return public_name(candidate), name
    return None


def _write_record(archive, name, data):
    """Adds one uncompressed record whose data starts on a 64-byte boundary, padded as torch pads it."""
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = len(data) if isinstance(data, bytes) else data.nbytes
    zip64 = info.file_size * 1.05 > zipfile.ZIP64_LIMIT  # zipfile's own rule for adding a zip64 extra field
    header = _LOCAL_HEADER_SIZE + len(name.encode("utf-8")) + 4 + (_ZIP64_EXTRA_SIZE if zip64 else 0)
    padding = -(archive.start_dir + header) % _ALIGNMENT
    info.extra = b"FB" + struct.pack("<H", padding) + b"Z" * padding
    with archive.open(info, "w", force_zip64=zip64) as record:
        record.write(data)
        if not _settings.get_crc32_options():
            record._crc = 0   # what zipfile writes as the record's CRC-32 on closing it: torch then writes zeros
    info.extra = b""   # the padding is in the local header only: torch's central directory has no extra fields


class _Stream:
    """Hides a file's seek and tell, so zipfile streams each record with a data descriptor after its data.

    That is the layout torch's writer (miniz) produces; torch relies on it to compute record offsets when it
    memory-maps a checkpoint.
    """

    def __init__(self, file):
        self.write = file.write
        self.flush = getattr(file, "flush", lambda: None)


def _write_archive(obj, file, archive_name, protocol, pickler=None, byteorder_record=True):
    storages = _Storages()
    pickled = io.BytesIO()
    (pickler or _Pickler)(pickled, protocol, storages).dump(obj)
    with zipfile.ZipFile(_Stream(file), "w", zipfile.ZIP_STORED) as archive:
        def write(name, data):
            _write_record(archive, f"{archive_name}/{name}", data)
        write("data.pkl", pickled.getvalue())
        write(".format_version", b"1")
        write(".storage_alignment", str(_ALIGNMENT).encode())
        if byteorder_record:
            write("byteorder", sys.byteorder.encode())
        for ref in storages.refs:   # under skip_data, zeros of the storage's size: the bytes come in a later pass
            write(f"data/{ref.key}", numpy.zeros(ref.data.nbytes, numpy.uint8) if _settings.local.skip_data
                  else ref.data)
        write("version", b"3\n")
        if not byteorder_record:   # torch's archive writer then adds it on closing, as here
            write("byteorder", sys.byteorder.encode())
        write(".data/serialization_id", _serialization_id())


def _pickler_class(pickle_module):
    """ember's pickler, or ember's pickler over ``pickle_module.Pickler`` when that is another pure-Python pickler, or
    under the torch alias a C one (cloudpickle's)."""
    base = getattr(pickle_module, "Pickler", None)
    if pickle_module is pickle or base in (pickle.Pickler, pickle._Pickler):
        return _Pickler
    if isinstance(base, type) and issubclass(base, pickle._Pickler):
        return _pickler_over(base)
    from . import _alias
    if isinstance(base, type) and issubclass(base, pickle.Pickler) and _alias.installed:
        return _c_pickler_over(base)
    raise TypeError(f"save: pickle_module {getattr(pickle_module, '__name__', pickle_module)!r} has no pure-Python "
                    f"Pickler (a subclass of pickle._Pickler, as dill's); ember writes PyTorch's names with one, "
                    f"where the C pickler ({getattr(base, '__qualname__', base)}) would import torch to check them "
                    f"(which works under ember run or after ember.install_torch_alias())")


@functools.cache
def _pickler_over(base):
    """ember's pickler placed before ``base`` in the MRO; its dispatch is base's, with ember's own entries on top."""
    own = {key: save for key, save in _Pickler.dispatch.items() if pickle._Pickler.dispatch.get(key) is not save}
    dispatch = type(base.dispatch)(base.dispatch)
    dispatch.update(own)
    return type(f"_Pickler_{base.__name__}", (_Pickler, base), {"dispatch": dispatch})


@functools.cache
def _c_pickler_over(base):
    """ember's tensor and storage reductions on a C pickler ``base`` (cloudpickle's), under the alias: the rebuild
    functions are ember's named as torch's, which the C pickler finds again by importing torch (ember). Storages are
    untyped and tensors rebuilt with their dtype (``_rebuild_tensor_v3``): torch.FloatStorage and kin, which the typed
    form names, are not importable from ember."""
    from ._torch_pickle import torch_function

    def __init__(self, file, protocol, storages, legacy=False):
        if legacy:
            raise TypeError("save: the legacy format (_use_new_zipfile_serialization=False) needs a pickle_module "
                            "with a pure-Python Pickler")
        base.__init__(self, file, protocol)
        self._storages, self._legacy, self.proto = storages, legacy, protocol

    def persistent_id(self, obj):
        if type(obj) is not _StorageRef:
            return None
        return "storage", UntypedStorage, obj.key, obj.location, obj.data.nbytes

    def reducer_override(self, obj):
        if isinstance(obj, Tensor) or hasattr(obj, "_torch_reduce") or hasattr(obj, "_torch_reduce_with_storages"):
            function, *rest = _Pickler.reducer_override(self, obj)
            if isinstance(function, _TorchGlobal):
                if function.name == "_rebuild_from_type_v2":   # its inner rebuild function is named by text too
                    inner, *args = rest[0]
                    rest = [(torch_function(inner.module, inner.name), *args), *rest[1:]]
                function = torch_function(function.module, function.name)
            return (function, *rest)
        return base.reducer_override(self, obj) if hasattr(base, "reducer_override") else NotImplemented

    def _reduce_plain_tensor(self, tensor):
        function, args = _Pickler._reduce_plain_tensor(self, tensor)
        if function.name == "_rebuild_tensor_v2":
            function, args = _TorchGlobal("torch._utils", "_rebuild_tensor_v3"), args + (tensor.dtype,)
        return function, args

    return type(f"_CPickler_{base.__name__}", (base,), {
        "__init__": __init__, "persistent_id": persistent_id, "reducer_override": reducer_override,
        "_reduce_tensor": _Pickler._reduce_tensor, "_reduce_plain_tensor": _reduce_plain_tensor})


def _serialization_id():
    """40 random digits, the form of the id torch writes."""
    return "".join(f"{int.from_bytes(os.urandom(8), 'little'):020d}" for _ in range(2)).encode()


def _write_legacy(obj, file, protocol, pickler=None):
    """torch's pre-1.6 format: pickles of the magic number, the format version, the system info, the object and its
    storage keys (sorted, as torch's), then each storage's element count and bytes."""
    storages = _Storages()
    sys_info = {"protocol_version": PROTOCOL_VERSION, "little_endian": sys.byteorder == "little",
                "type_sizes": {"short": SHORT_SIZE, "int": INT_SIZE, "long": LONG_SIZE}}
    for header in (MAGIC_NUMBER, PROTOCOL_VERSION, sys_info):
        pickle.dump(header, file, protocol=protocol)
    (pickler or _Pickler)(file, protocol, storages, legacy=True).dump(obj)
    refs = sorted(storages.refs, key=lambda ref: ref.key)
    pickle.dump([ref.key for ref in refs], file, protocol=protocol)
    for ref in refs:
        file.write(struct.pack("<q", ref.persistent_id()[-1]))
        file.write(memoryview(ref.data).cast("B"))
