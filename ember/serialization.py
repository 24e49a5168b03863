"""save/load in PyTorch's zip checkpoint format, so checkpoints move freely between ember and PyTorch.

An archive holds ``<name>/data.pkl`` (the pickled object, each tensor replaced by a reference to a storage),
``<name>/data/<key>`` (each storage's raw bytes, 64-byte aligned) and the small records torch writes (version,
byteorder, .format_version, .storage_alignment, .data/serialization_id). The pickle names torch's globals
(``torch._utils._rebuild_tensor_v2``, ``torch.FloatStorage``, ``torch.float32``, ...) as text, and loading maps
those names back to ember, so torch is never imported. Writing the archive is ``ember/_checkpoint_writer.py``'s job;
the settings (skip_data, mmap flags, byte order, CRC-32) and the location registry are in
``_serialization_settings.py`` and ``_storage_locations.py``.
"""
import _compat_pickle
import codecs
import contextlib
import functools
import io
import os
import pickle
import re
import struct
import sys
import typing
import warnings
import zipfile
import zlib
from collections import Counter, OrderedDict

import numpy

from . import _backend, _compat, _dtype, _meta, _safe_globals
from . import _serialization_settings as _settings
from ._atomic_file import atomic_write
from ._checkpoint_writer import (  # noqa: F401  (PyTorch's module constants, and helpers other modules use)
    _LOCAL_HEADER_SIZE, _STORAGE_NAMES, DEFAULT_PROTOCOL, INT_SIZE, LONG_SIZE, MAGIC_NUMBER, PROTOCOL_VERSION,
    SHORT_SIZE, STORAGE_KEY_SEPARATOR, _Pickler, _pickler_class, _root, _serialization_id, _StorageRef, _Storages,
    _Stream, _TorchGlobal, _write_archive, _write_legacy, _write_record)
from ._safe_globals import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals
from ._serialization_settings import (
    LoadEndianness, SourceChangeWarning, StorageType, check_module_version_greater_or_equal, get_crc32_options,
    get_default_load_endianness, get_default_mmap_options, mkdtemp, normalize_storage_type, set_crc32_options,
    set_default_load_endianness, set_default_mmap_options, skip_data, storage_to_tensor_type)
from ._storage_locations import (  # noqa: F401  (_package_registry: PyTorch's module has it)
    _package_registry, default_restore_location, device_for, location_tag, register_package, validate_cuda_device,
    validate_hpu_device)
from ._storage_locations import restore_location as _restore_location
from ._tensor import Size, Tensor, _make, _rebuild_from_array
from ._weights_only_unpickler import BUILTIN_CONSTRUCTORS, Budget, Unpickler, set_attributes, weights_only_error
from .storage import TypedStorage, UntypedStorage

__all__ = ["LoadEndianness", "SourceChangeWarning", "StorageType", "add_safe_globals",
           "check_module_version_greater_or_equal", "clear_safe_globals", "default_restore_location",
           "get_crc32_options", "get_default_load_endianness", "get_default_mmap_options", "get_safe_globals",
           "get_unsafe_globals_in_checkpoint", "load", "location_tag", "mkdtemp", "normalize_storage_type",
           "register_package", "safe_globals", "save", "set_crc32_options", "set_default_load_endianness",
           "set_default_mmap_options", "skip_data", "storage_to_tensor_type", "validate_cuda_device",
           "validate_hpu_device"]

# PyTorch's type aliases for annotations (libraries import them: Pyro's param store annotates with MAP_LOCATION)
FileLike = typing.Union[str, os.PathLike, typing.IO[bytes]]
MAP_LOCATION = typing.Optional[typing.Union[typing.Callable[[UntypedStorage, str], UntypedStorage], _backend.device,
                                            str, typing.Dict[str, str]]]
STORAGE = typing.Union[UntypedStorage, TypedStorage]


def save(obj, f, pickle_module=pickle, pickle_protocol=DEFAULT_PROTOCOL, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Saves ``obj`` (tensors, state_dicts, optimizer states, modules, ...) to a path or binary file in PyTorch's
    zip format (or its pre-1.6 format, with ``_use_new_zipfile_serialization=False``); a path is replaced
    atomically, so an interrupted save leaves the previous file intact. ``pickle_module`` may be one whose
    ``Pickler`` is a pure-Python pickler (``dill``'s): its own reductions then pickle what ember's do not."""
    pickler = _pickler_class(pickle_module)

    if _settings.local.skip_data and not _use_new_zipfile_serialization:
        raise RuntimeError("Cannot use skip_data=True with _use_new_zipfile_serialization=False")

    def write(file, name):
        if _use_new_zipfile_serialization:
            _write_archive(obj, file, name, pickle_protocol, pickler, byteorder_record=not _disable_byteorder_record)
        else:
            _write_legacy(obj, file, pickle_protocol, pickler)
    if isinstance(f, (str, os.PathLike)):
        name = os.path.splitext(os.path.basename(os.fspath(f)))[0] or "archive"
        atomic_write(f, lambda file: write(file, name))
    elif not hasattr(f, "write"):
        raise AttributeError("expected 'f' to be string, path, or a file-like object with a 'write' attribute")
    else:
        write(f, "archive")


# --- loading ----------------------------------------------------------------------------------------
class _StorageType:
    """What ``torch.FloatStorage`` and its kin load as: the element type of a storage, and torch's name for it."""

    __slots__ = ("dtype", "name")

    def __init__(self, dtype, name):
        self.dtype, self.name = dtype, name


class Storage(TypedStorage):
    """A loaded storage: a flat array of one dtype on one device. ``map_location`` callables receive one."""

    @property
    def data(self):
        """The flat array."""
        return self._data

    def to(self, device):
        """This storage on ``device`` (itself when already there)."""
        return Storage(_backend.move(self.data, device_for(device)))

    def cpu(self):
        """This storage in host memory."""
        return self.to("cpu")

    def cuda(self, device=None):
        """This storage on a CUDA device (the first by default)."""
        return self.to(_backend.device("cuda", device) if isinstance(device, int) else device or "cuda")

    def __repr__(self):
        return f"ember.Storage(dtype={self.dtype}, device={self.device}, size={self.size()})"


def _rebuild_tensor(storage, storage_offset, size, stride):
    """A tensor viewing ``storage`` with the given layout, all in elements (torch._utils._rebuild_tensor)."""
    if not isinstance(storage, Storage):
        raise pickle.UnpicklingError(f"expected a storage to rebuild a tensor from, got {type(storage).__name__}")
    if not isinstance(size, (tuple, list)) or not isinstance(stride, (tuple, list)):
        raise pickle.UnpicklingError(f"a tensor's size and stride must be tuples, got {type(size).__name__} and "
                                     f"{type(stride).__name__}")
    size, stride = tuple(size), tuple(stride)
    _check_layout(storage, storage_offset, size, stride)
    data, itemsize = storage.data, storage.data.itemsize
    byte_strides = [s * itemsize for s in stride]
    if _meta.is_meta(data):   # map_location="meta": shapes and dtypes, no data
        return _make(_meta.empty(size, data.dtype))
    if isinstance(data, numpy.ndarray):   # a view whose base is the storage: views of one storage share it
        start = min(storage_offset * itemsize, data.nbytes)   # (an empty tensor may start past the end)
        return _make(numpy.ndarray(size, data.dtype, buffer=data, offset=start, strides=byte_strides))
    return _make(_compat.as_strided(_backend.xp_of(data), data[storage_offset:], size, byte_strides, writeable=True))


def _check_layout(storage, offset, size, stride):
    """Refuses layouts that would reach outside the storage (a crafted file must not read foreign memory)."""
    values = (offset,) + size + stride
    if not all(type(v) is int and v >= 0 for v in values) or len(size) != len(stride) or len(size) > 64:
        raise RuntimeError(f"invalid tensor layout in checkpoint: offset {offset!r}, size {size!r}, stride {stride!r}")
    if 0 in size:
        return
    needed = offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
    if needed > storage.size():
        itemsize = storage.data.itemsize
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and "
                           f"itemsize {itemsize} requiring a storage size of {needed * itemsize} are out of bounds "
                           f"for storage of size {storage.nbytes()}")


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None):
    """torch._utils._rebuild_tensor_v2: a tensor from a storage and layout (hooks and metadata are not kept)."""
    if type(requires_grad) is not bool or not isinstance(backward_hooks, dict) \
            or not isinstance(metadata, (dict, type(None))):
        raise pickle.UnpicklingError("_rebuild_tensor_v2 takes a bool requires_grad, a dict of hooks and an optional "
                                     f"dict of metadata, got {type(requires_grad).__name__}, "
                                     f"{type(backward_hooks).__name__} and {type(metadata).__name__}")
    tensor = _rebuild_tensor(storage, storage_offset, size, stride)
    if metadata:   # PyTorch's lazy conj/neg bits (a conj() view pickles its base's data): ember holds the values
        data = tensor._data.conj() if metadata.get("conj") else tensor._data
        tensor = _make(-data if metadata.get("neg") else data)
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None):
    """torch._utils._rebuild_tensor_v3: like v2, over an untyped (byte) storage read as ``dtype``."""
    if not isinstance(storage, Storage) or storage.data.dtype != numpy.uint8 or not isinstance(dtype, _dtype.dtype):
        raise pickle.UnpicklingError("expected an untyped storage and a dtype to rebuild a tensor from")
    if storage.nbytes() % dtype.itemsize:
        raise RuntimeError(f"a storage of {storage.nbytes()} bytes cannot hold whole {dtype} elements")
    typed = Storage(storage.data.view(dtype.numpy))
    return _rebuild_tensor_v2(typed, storage_offset, size, stride, requires_grad, backward_hooks, metadata)


def _get_layout(name):
    """torch.serialization._get_layout: the layout ``torch.<name>`` (how PyTorch plainly pickles a layout)."""
    from .sparse._layout import get_layout
    return get_layout(name)


def _rebuild_qtensor(*args):
    """torch._utils._rebuild_qtensor: a quantized tensor (``ember.ao``) over a QInt8Storage or kin."""
    from .ao._qtensor import rebuild_qtensor
    return rebuild_qtensor(*args)


def _rebuild_meta_tensor_no_storage(dtype, size, stride, requires_grad):
    """torch._utils._rebuild_meta_tensor_no_storage: a meta tensor (shape and dtype, no data)."""
    if not isinstance(dtype, _dtype.dtype) or not isinstance(size, (tuple, list)) or \
            not all(type(n) is int and n >= 0 for n in size) or type(requires_grad) is not bool:
        raise pickle.UnpicklingError("_rebuild_meta_tensor_no_storage takes a dtype, a size of non-negative ints, "
                                     f"strides and a bool, got {type(dtype).__name__}, {type(size).__name__} and "
                                     f"{type(requires_grad).__name__}")
    return _make(_meta.empty(size, dtype.numpy), requires_grad=requires_grad)


def _rebuild_parameter(data, requires_grad, backward_hooks):
    """torch._utils._rebuild_parameter: a Parameter around a loaded tensor."""
    from .nn.parameter import Parameter
    if not isinstance(data, Tensor) or type(requires_grad) is not bool:
        raise pickle.UnpicklingError(f"a Parameter is rebuilt from a tensor and a bool, got {type(data).__name__} "
                                     f"and {type(requires_grad).__name__}")
    return Parameter(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    """torch._utils._rebuild_parameter_with_state: a Parameter that also carries Python attributes."""
    parameter = _rebuild_parameter(data, requires_grad, backward_hooks)
    set_attributes(parameter, state, "a Parameter")
    return parameter


def _rebuild_from_type_v2(func, new_type, args, state):
    """torch._tensor._rebuild_from_type_v2: a tensor of a subclass or with Python attributes; a subclass with a
    ``_rebuild_from_type_v2`` of its own (torch.nested's NestedTensor, allowed by its mark) rebuilds itself."""
    own = getattr(new_type, "_rebuild_from_type_v2", None) if isinstance(new_type, type) else None
    if own is not None and issubclass(new_type, Tensor):
        return own(func, args, state)
    if func not in _REBUILD_FUNCTIONS or not (isinstance(new_type, type) and issubclass(new_type, Tensor)) \
            or type(args) is not tuple:
        raise pickle.UnpicklingError("_rebuild_from_type_v2 takes a tensor rebuild function, a Tensor class and a "
                                     f"tuple, got {_name_of(func)}, {_name_of(new_type)} and {type(args).__name__}")
    tensor = func(*args)
    if type(tensor) is not new_type:
        tensor = _make(tensor._data, requires_grad=tensor.requires_grad, cls=new_type)
    set_attributes(tensor, state, f"a {new_type.__name__}")
    return tensor


_REBUILD_FUNCTIONS = (_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter,
                      _rebuild_parameter_with_state, _rebuild_meta_tensor_no_storage)


def _name_of(obj):
    return getattr(obj, "__qualname__", type(obj).__name__)


_rebuild_tensor_from_array = _rebuild_from_array   # the name plain pickles made before ember 0.1.1 refer to


def _torch_globals():
    from .nn.parameter import Parameter
    table = {("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
             ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
             ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
             ("torch.storage", "UntypedStorage"): _StorageType(_dtype.uint8, "UntypedStorage"),
             ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
             ("torch._utils", "_rebuild_meta_tensor_no_storage"): _rebuild_meta_tensor_no_storage,
             ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
             ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
             ("torch", "Size"): Size, ("torch", "device"): _backend.device,
             ("torch", "Tensor"): Tensor, ("torch._tensor", "Tensor"): Tensor,
             ("torch.nn.parameter", "Parameter"): Parameter, ("ember.nn.parameter", "Parameter"): Parameter,
             ("torch", "UntypedStorage"): _StorageType(_dtype.uint8, "UntypedStorage")}
    from .sparse._layout import TORCH_GLOBALS as sparse_globals
    table.update(sparse_globals)
    table["torch._utils", "_rebuild_qtensor"] = _rebuild_qtensor
    for q in _dtype.QSCHEMES:
        table["torch", q.name] = q
    for d in _dtype.ALL + _dtype.QUANTIZED + _dtype.FLOAT8:
        table["torch", d.name] = d
        if d.name in _STORAGE_NAMES:   # a QInt8Storage loads as the int8 it stores (_rebuild_qtensor knows)
            stored = _dtype.from_numpy(d._numpy) if d in _dtype.QUANTIZED else d
            table["torch", _STORAGE_NAMES[d.name]] = _StorageType(stored, _STORAGE_NAMES[d.name])
    return table


_TORCH_GLOBALS = {}  # filled on first use: it names ember.nn, which is imported after this module


def _torch_global(module, name):
    """The ember object standing for a torch global (or a safe ember one) that checkpoints name; None if unknown."""
    if not _TORCH_GLOBALS:
        _TORCH_GLOBALS.update(_torch_globals())
    return _TORCH_GLOBALS.get((module, name))


# Data constructors a weights-only load may name besides torch's; each is called only through its checked form.
_SAFE_GLOBALS = {("collections", "OrderedDict"): OrderedDict, ("collections", "Counter"): Counter,
                 ("_codecs", "encode"): codecs.encode, ("builtins", "bytearray"): bytearray,
                 ("builtins", "bytes"): bytes, ("builtins", "set"): set, ("builtins", "frozenset"): frozenset,
                 ("builtins", "complex"): complex, ("ember._dtype", "_by_name"): _dtype._by_name,
                 ("ember._tensor", "Size"): Size, ("ember", "Size"): Size,
                 ("ember._backend", "device"): _backend.device}


def _map_name(module, name):
    """Protocol 2 pickles name Python 2 modules (__builtin__, copy_reg): map them as the C unpickler does."""
    return _compat_pickle.NAME_MAPPING.get((module, name), (_compat_pickle.IMPORT_MAPPING.get(module, module), name))


_NESTED_GLOBALS = ("torch.nested._internal.nested_tensor.NestedTensor",
                   "torch.nested._internal.nested_tensor._rebuild_njt", "torch._dynamo.decorators._DimRange",
                   "torch._utils._rebuild_nested_tensor")
"""The globals of PyTorch's pickles of nested tensors, which torch.nested marks safe when it loads."""

_BLOCKED_MODULES = ("sys", "os", "posix", "nt")
"""Modules none of whose globals a weights-only load takes (torch's ``_blocklisted_modules``)."""


def _find_allowed_global(module, name):
    """The object a weights-only load may name as ``module.name``; UnpicklingError for every other global."""
    mapped = _map_name(module, name)
    if mapped[0] in _BLOCKED_MODULES:   # refused even when marked safe, as torch refuses them
        raise weights_only_error(f"Trying to load unsupported GLOBAL {'.'.join(mapped)} whose module {mapped[0]} is "
                                 "blocked.")
    found = _torch_global(*mapped)
    if found is None:
        found = _SAFE_GLOBALS.get(mapped)
    if found is None:
        found = _safe_globals.find_marked(*mapped)
    if found is None and ".".join(mapped) in _NESTED_GLOBALS:   # torch.nested marks them when it loads, as PyTorch's
        raise weights_only_error("``torch.nested`` and ``torch._dynamo`` must be imported to load nested jagged "
                                 "tensors (NJTs)")
    if found is None:
        from ._alias import package
        path = mapped[1] if mapped[0] == "builtins" else ".".join(mapped)   # torch names builtins bare
        raise weights_only_error(
            f"Unsupported global: GLOBAL {path} was not an allowed global by default. Please use "
            f"`{package()}.serialization.add_safe_globals([{path}])` or the `{package()}.serialization.safe_globals("
            f"[{path}])` context manager to allowlist this global if you trust this class/function.")
    return found


def _checked(function):
    """An allowed constructor that validates its own arguments, in the form the restricted unpickler calls."""
    return lambda budget, *args: function(*args)


def _size(budget, dims=()):
    if not isinstance(dims, (tuple, list)) or not all(type(n) is int and n >= 0 for n in dims):
        raise pickle.UnpicklingError(f"torch.Size takes non-negative ints, got {type(dims).__name__}")
    return Size(dims)


def _device(budget, type_or_index, index=None):
    if not isinstance(type_or_index, (str, int)) or not (index is None or type(index) is int):
        raise pickle.UnpicklingError(f"torch.device takes a str and an optional int, got "
                                     f"{type(type_or_index).__name__} and {type(index).__name__}")
    return _backend.device(type_or_index, index)


def _parameter(budget, data=None, requires_grad=True):
    return _rebuild_parameter(data, requires_grad, None)


@functools.cache
def _constructors():
    """Every callable a weights-only load may call, mapped to its argument-checking form (made once: the checking
    forms read signatures, which took milliseconds per load of every storage in a plain pickle)."""
    from .nn.parameter import Parameter
    table = dict(BUILTIN_CONSTRUCTORS)
    table.update({f: _checked(f) for f in _REBUILD_FUNCTIONS + (_rebuild_from_type_v2, _dtype._by_name,
                                                               _rebuild_qtensor)})
    table.update({Size: _size, _backend.device: _device, Parameter: _parameter})
    from .sparse._layout import TORCH_GLOBALS as sparse_globals  # each checks its own arguments
    table.update({f: _checked(f) for f in sparse_globals.values()})
    return table


def _restricted_unpickler(file, load_storage, budget, pickle_load_args, end=None):
    trusted = [entry[0] if isinstance(entry, tuple) else entry for entry in _safe_globals.get_safe_globals()]
    return Unpickler(file, find_global=_find_allowed_global, constructors=_constructors(),
                     persistent_load=load_storage, budget=budget, build_types=(Tensor,), trusted=trusted, end=end,
                     encoding=pickle_load_args.get("encoding", "ASCII"),
                     errors=pickle_load_args.get("errors", "strict"))


class _FullUnpickler(pickle.Unpickler):
    """``weights_only=False``: pickle's own unpickler, which can run any code, with torch's names mapped to ember."""

    def find_class(self, module, name):
        mapped_module, mapped_name = _map_name(module, name)
        found = _torch_global(mapped_module, mapped_name)
        if found is None:
            found = _torch_builtin(mapped_module, mapped_name)
        if found is not None:
            return found
        from ._alias import ember_name  # torch.nn.modules.linear.Linear -> ember.nn.modules.linear.Linear
        return super().find_class(ember_name(mapped_module) or mapped_module, mapped_name)


def _full_unpickler(file, load_storage, pickle_module, pickle_load_args):
    """The ``weights_only=False`` unpickler. A ``pickle_module``'s own ``Unpickler`` (a restricting subclass of
    pickle's) sees every global but the storage types, as on torch, and its ``super().find_class`` maps torch's
    names to ember: the class is ``pickle_module.Unpickler`` placed before ``_FullUnpickler`` in the MRO."""
    base = getattr(pickle_module, "Unpickler", pickle.Unpickler)
    if base is pickle.Unpickler:
        unpickler = _FullUnpickler(file, **pickle_load_args)
    else:
        class UnpicklerWrapper(base, _FullUnpickler):
            def find_class(self, module, name):
                found = _torch_global(module, name) if type(name) is str and "Storage" in name else None
                return found if isinstance(found, _StorageType) else super().find_class(module, name)

        unpickler = UnpicklerWrapper(file, **pickle_load_args)
    unpickler.persistent_load = load_storage
    return unpickler


# torch's C namespaces that pickled builtin functions name -> (ember namespace, prefix torch's name carries)
_TORCH_C_NAMESPACES = {"torch._C._nn": ("ember.nn.functional", ""), "torch._C._special": ("ember.special", "special_"),
                       "torch._C._linalg": ("ember.linalg", "linalg_"), "torch._C._fft": ("ember.fft", "fft_")}


def _torch_builtin(module, name):
    """The ember object for a global naming one of torch's C functions or classes (a whole pickled model keeps
    ``F.gelu`` as ``torch._C._nn.gelu``, ``torch.tanh`` as ``getattr(torch._C._VariableFunctionsClass, 'tanh')``);
    None for other names."""
    import importlib
    if module == "torch._C":
        if name == "_VariableFunctionsClass":
            return importlib.import_module("ember")
        if name in ("TensorBase", "_TensorBase"):
            return Tensor
        return None
    namespace, prefix = _TORCH_C_NAMESPACES.get(module, (None, ""))
    if namespace is None or not name.startswith(prefix):
        return None
    name = "logsigmoid" if (module, name) == ("torch._C._nn", "log_sigmoid") else name[len(prefix):]
    return getattr(importlib.import_module(namespace), name, None)


def _parse_storage_id(saved_id, legacy=False):
    """``(storage type, key, location, numel[, view])`` from torch's persistent id, validated."""
    size = 6 if legacy else 5
    if not isinstance(saved_id, tuple) or len(saved_id) != size or _text(saved_id[0]) != "storage" \
            or not isinstance(saved_id[1], _StorageType) or type(saved_id[4]) is not int or saved_id[4] < 0 \
            or not isinstance(saved_id[2], (str, bytes)) or not _STORAGE_KEY.fullmatch(_text(saved_id[2])) \
            or not isinstance(saved_id[3], (str, bytes)):
        raise pickle.UnpicklingError(f"unsupported persistent id in checkpoint: {_short_repr(saved_id)}")
    return (saved_id[1], _text(saved_id[2]), _text(saved_id[3])) + saved_id[4:]


_STORAGE_KEY = re.compile(r"[A-Za-z0-9_]{1,64}")  # record names under data/: no paths


def _short_repr(value):
    text = repr(value) if isinstance(value, (tuple, str, bytes, int)) else type(value).__name__
    return text if len(text) <= 200 else text[:200] + "..."


def _text(value):
    return value.decode("ascii") if isinstance(value, bytes) else str(value)


def _same_storage(seen, key, storage_type, numel):
    """Refuses a key named with two dtypes or sizes: one record is one storage, read one way."""
    if key in seen and (seen[key][0].dtype, seen[key][1]) != (storage_type.dtype, numel):
        old_type, old_numel = seen[key]
        raise pickle.UnpicklingError(
            f"storage '{key}' is referenced as {old_type.name} of {old_numel} elements and as {storage_type.name} of "
            f"{numel} elements: a checkpoint names each storage one way")
    seen[key] = (storage_type, numel)


class _ZipCheckpoint:
    """The records of a zip checkpoint, all under its one top-level folder."""

    def __init__(self, file, name, mmap_path, budget):
        self.name, self._budget = name, budget
        with self._reading():
            self._zip = zipfile.ZipFile(file)
        names = self._zip.namelist()
        self._prefix = names[0].split("/", 1)[0] + "/" if names else ""
        self._file, self._mmap_path = file, mmap_path
        if not self.has("data.pkl"):
            what = "a TorchScript archive (use torch.jit.load)" if self.has("constants.pkl") else "a zip file"
            raise RuntimeError(f"{name} is {what}, not a checkpoint written by torch.save / ember.save: "
                               f"it has no {self._prefix}data.pkl record")

    def has(self, name):
        return self._prefix + name in self._zip.NameToInfo

    def _info(self, name):
        if not self.has(name):
            raise RuntimeError(f"PytorchStreamReader failed locating file {self._prefix}{name}: file not found "
                               f"(in {self.name})")
        info = self._zip.getinfo(self._prefix + name)
        if getattr(info, "CRC", None) == 0 and info.file_size and info.compress_type == zipfile.ZIP_STORED:
            del info.CRC   # torch.save under set_crc32_options(False): no checksum to check (zipfile checks none)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise RuntimeError(f"{self.name}: record {info.filename} uses compression method {info.compress_type}; "
                               "checkpoints hold stored or deflated records only")
        return info

    def read(self, name):
        """Record ``name`` as bytes, its declared size checked against the load's limit before reading."""
        info = self._info(name)
        return self._read_into(info, bytearray(self._reserve(info)))

    def read_bytes(self, name, nbytes):
        """Record ``name`` as a writable uint8 array (memory-mapped copy-on-write when loading with mmap)."""
        info = self._info(name)
        if info.file_size != nbytes:
            raise RuntimeError(f"{self.name}: record {info.filename} holds {info.file_size} bytes, but its tensor "
                               f"data needs {nbytes}")
        if self._mmap_path is not None and nbytes:   # MAP_SHARED (set_default_mmap_options): writes reach the file
            mode = "r+" if _settings.get_default_mmap_options() == _settings.MAP_SHARED else "c"
            mapped = numpy.memmap(self._mmap_path, numpy.uint8, mode, self._data_offset(info), (nbytes,))
            return mapped.view(numpy.ndarray)
        if _settings.local.skip_data:   # the storage as allocated, left unfilled
            return numpy.empty(self._reserve(info), numpy.uint8)
        return self._read_into(info, numpy.empty(self._reserve(info), numpy.uint8))

    def _reserve(self, info):
        self._budget.take(info.file_size, f"record {info.filename}")
        return info.file_size

    @contextlib.contextmanager
    def _reading(self):
        """Reports whatever a damaged archive makes zipfile raise as torch's reader error."""
        try:
            yield
        except (zipfile.BadZipFile, zlib.error, EOFError, struct.error, ValueError, NotImplementedError,
                OverflowError) as error:
            raise RuntimeError(f"PytorchStreamReader failed reading zip archive {self.name}: {error} (the file is "
                               "truncated or corrupt)") from None

    def _read_into(self, info, out):
        """Fills ``out`` from the record in bounded chunks: decompression stops at the declared size."""
        with self._reading(), self._zip.open(info) as record:
            view, position = memoryview(out).cast("B"), 0
            while position < len(view):
                count = record.readinto(view[position:position + (1 << 24)])
                if not count:
                    raise RuntimeError(f"{self.name}: record {info.filename} ends after {position} of its "
                                       f"{len(view)} declared bytes (the file is truncated or corrupt)")
                position += count
        return out

    def _data_offset(self, info):
        if info.compress_type != zipfile.ZIP_STORED:
            raise RuntimeError(f"{self.name}: record {info.filename} is compressed and cannot be memory-mapped")
        offset = _record_data_start(self._file, info)
        if offset + info.file_size > os.fstat(self._file.fileno()).st_size:
            raise RuntimeError(f"{self.name}: record {info.filename} reaches past the end of the file")
        return offset


def _record_data_start(file, info):
    """Where the data of the zip record ``info`` starts in ``file`` (past its local header, whose name and extra
    field lengths are read from the file); the file's position is kept."""
    position = file.tell()
    file.seek(info.header_offset + 26)
    name_length, extra_length = struct.unpack("<HH", file.read(4))
    file.seek(position)
    return info.header_offset + _LOCAL_HEADER_SIZE + name_length + extra_length


def _load_zip(checkpoint, map_location, weights_only, budget, pickle_module, pickle_load_args):
    byteorder = checkpoint.read("byteorder").decode("ascii") if checkpoint.has("byteorder") else \
        _settings.fallback_byteorder(sys.byteorder)
    if byteorder not in ("little", "big"):
        raise RuntimeError(f"{checkpoint.name}: unknown byteorder record {byteorder[:20]!r}")
    loaded, seen = {}, {}

    def load_storage(saved_id):
        storage_type, key, location, numel = _parse_storage_id(saved_id)
        _same_storage(seen, key, storage_type, numel)
        dtype = storage_type.dtype
        if key not in loaded:
            data = checkpoint.read_bytes(f"data/{key}", numel * dtype.itemsize).view(dtype.numpy)
            if byteorder != sys.byteorder:
                data.byteswap(inplace=True)
            try:
                loaded[key] = _restore_location(Storage(data), location, map_location)
            except (pickle.UnpicklingError, RuntimeError):
                raise
            except Exception as error:   # a map_location callable's own error, raised as it is
                raise _MapLocationError(error) from error
        return loaded[key]

    pickled = checkpoint.read("data.pkl")
    if weights_only:
        return _restricted_unpickler(io.BytesIO(pickled), load_storage, budget, pickle_load_args,
                                     end=len(pickled)).load()
    return _full_unpickler(io.BytesIO(pickled), load_storage, pickle_module, pickle_load_args).load()


class _MapLocationError(RuntimeError):
    """Carries an error of map_location's (a callable's TypeError, ValueError, ...) through the restricted
    unpickler, which reports other errors as malformed pickles; load raises it as it was."""

    def __init__(self, error):
        super().__init__(str(error))
        self.error = error


def _load_legacy(file, map_location, weights_only, budget, pickle_module, pickle_load_args):
    """Reads torch's pre-1.6 format: pickles for magic, version and system info, the object, the storage keys,
    then each storage's element count and raw bytes."""
    position = file.tell()
    end = file.seek(0, os.SEEK_END)
    file.seek(position)

    def restricted_load(load_storage=None):
        return _restricted_unpickler(file, load_storage, budget, pickle_load_args, end=end).load()
    storages, seen = {}, {}

    def load_storage(saved_id):
        storage_type, key, location, numel, view = _parse_storage_id(saved_id, legacy=True)
        _same_storage(seen, key, storage_type, numel)
        dtype = storage_type.dtype
        if key not in storages:
            budget.take(numel * dtype.itemsize, f"legacy storage {key} of {numel} elements")
            storages[key] = (numpy.empty(numel, dtype.numpy), location)
        data = storages[key][0]
        if view is not None:
            if not (isinstance(view, tuple) and len(view) == 3 and all(type(v) is int and v >= 0 for v in view[1:])
                    and view[1] + view[2] <= numel):
                raise pickle.UnpicklingError(f"invalid storage view in legacy checkpoint: {_short_repr(view)}")
            data = data[view[1]:view[1] + view[2]]
        return Storage(data)

    restricted_load(), restricted_load(), restricted_load()  # magic number, protocol version, system info
    if weights_only:
        result = restricted_load(load_storage)
    else:
        result = _full_unpickler(file, load_storage, pickle_module, pickle_load_args).load()
    keys = restricted_load()
    if not isinstance(keys, list) or any(key not in storages for key in keys):
        raise RuntimeError("legacy checkpoint is corrupt: its storage keys do not match its tensors")
    for key in keys:
        data = storages[key][0]
        header = file.read(8)
        if len(header) < 8:
            raise RuntimeError(f"unexpected EOF, expected {8 - len(header)} more bytes. The file might be corrupted.")
        if struct.unpack("<q", header)[0] != data.size:
            raise RuntimeError(f"legacy checkpoint is corrupt: storage {key} holds {struct.unpack('<q', header)[0]} "
                               f"elements, but its tensors were saved over {data.size}")
        read = file.readinto(memoryview(data.view(numpy.uint8)))
        if read != data.nbytes:
            raise RuntimeError(f"unexpected EOF, expected {data.nbytes - read} more bytes. The file might be "
                               "corrupted.")
    for key, (data, location) in storages.items():   # the tensors view the arrays filled above: they stay there
        restored = _restore_location(Storage(data), location, map_location)
        if not isinstance(restored, Storage) or restored.device.type != "cpu" or _root(restored.data) is not data:
            raise RuntimeError(f"ember reads legacy (pre-zip) torch checkpoints into host memory only, but "
                               f"map_location puts storage {key} (saved on {location}) elsewhere: map it to the CPU, "
                               "or re-save the file with torch.save")
    return result


def _package():
    from ._alias import package
    return package()


_NOT_A_PICKLE = object()


def _first_pickle(file, budget, end):
    """The first object pickled in ``file`` (a legacy checkpoint's is its magic number), read by the restricted
    unpickler, or ``_NOT_A_PICKLE``; the file's position is kept."""
    position = file.tell()
    try:
        return _restricted_unpickler(file, None, budget, {}, end=end).load()
    except Exception:   # noqa: BLE001  (whatever the bytes make the unpickler raise: they are not a pickle)
        return _NOT_A_PICKLE
    finally:
        file.seek(position)


@contextlib.contextmanager
def _opened(f):
    """``(binary seekable file, name for messages)`` for a path or a file-like object."""
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as file:
            yield file, f"'{os.fspath(f)}'"
        return
    name = f"'{f.name}'" if isinstance(getattr(f, "name", None), str) else repr(f)
    if not hasattr(f, "read"):
        raise AttributeError(f"'{type(f).__name__}' object has no attribute 'seek'. You can only {_package()}.load "
                             "from a file that is seekable. Please pre-load the data into a buffer like io.BytesIO and "
                             "try to load from it instead.")
    yield (f if f.seekable() else io.BytesIO(f.read())), name   # a stream is read whole: PyTorch refuses one


def _default_limit(file_size):
    """The default ``max_bytes``: what a checkpoint of this size can honestly need, with room for compression."""
    return max(_LIMIT_FACTOR * file_size, 1 << 20)


_LIMIT_FACTOR = 16


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, max_bytes=None,
         **pickle_load_args):
    """Loads an object saved by ``ember.save`` or ``torch.save`` from a path or binary file.

    ``weights_only`` (default True; the TORCH_FORCE_(NO_)WEIGHTS_ONLY_LOAD variables override it as in PyTorch) only
    unpickles tensors, containers, dtypes, sizes, devices and the globals marked with ``add_safe_globals``;
    ``map_location`` (a device, a string, a dict of location tags, or a callable) says where storages go; ``mmap``
    maps a file's tensor data instead of reading it; ``max_bytes`` bounds what the load may allocate (default: 16
    times the file's size, enough for any honest file), checked before each allocation. ``pickle_module`` (whose
    ``Unpickler`` may restrict globals) makes ``weights_only`` default to False and cannot be used with True.
    """
    weights_only = _safe_globals.resolve_weights_only(weights_only, default=pickle_module is None)
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    if weights_only and pickle_load_args:   # PyTorch's weights-only unpickler takes an encoding only
        warnings.warn("pickle_load_args only works if `weights_only=False`.", stacklevel=2)
        for key in pickle_load_args:
            if key != "encoding":
                raise TypeError(f"Unpickler.__init__() got an unexpected keyword argument '{key}'")
    pickle_load_args.setdefault("encoding", "utf-8")
    if mmap and not isinstance(f, (str, os.PathLike)):
        raise ValueError("f must be a file path in order to use the mmap argument")
    with _opened(f) as (file, name):
        start = file.tell()
        size = file.seek(0, os.SEEK_END) - start
        file.seek(start)
        head = file.read(4)
        file.seek(start)
        budget = Budget(_default_limit(size) if max_bytes is None else max_bytes, f"ember.load({name})")
        try:
            if head.startswith(b"PK\x03\x04"):
                checkpoint = _ZipCheckpoint(file, name, os.fspath(f) if mmap else None, budget)
                if checkpoint.has("constants.pkl"):
                    return _load_torchscript(file, start, map_location, weights_only)
                return _load_zip(checkpoint, map_location, weights_only, budget, pickle_module, pickle_load_args)
            if head and _first_pickle(file, budget, start + size) == MAGIC_NUMBER:   # any pickle protocol
                if mmap:
                    named = f"{f}, " if isinstance(f, str) else ""   # (PyTorch names a str path only)
                    raise RuntimeError(f"mmap can only be used with files saved with `{_package()}.save({named}"
                                       f"_use_new_zipfile_serialization=True), please {_package()}.save your "
                                       "checkpoint with this option in order to use mmap.")
                return _load_legacy(file, map_location, weights_only, budget, pickle_module, pickle_load_args)
        except _MapLocationError as carried:
            raise carried.error from None
        except (zipfile.BadZipFile, EOFError, struct.error, zipfile.LargeZipFile, NotImplementedError) as error:
            raise RuntimeError(f"PytorchStreamReader failed reading zip archive {name}: {error} (the file is "
                               "truncated or corrupt)") from None
        if not head:
            raise RuntimeError(f"{name} is empty: it holds no checkpoint (was the save interrupted?)")
        if _first_pickle(file, budget, start + size) is not _NOT_A_PICKLE:
            raise RuntimeError("Invalid magic number; corrupt file?")
        raise RuntimeError(f"PytorchStreamReader failed reading zip archive {name}: failed finding central "
                           "directory (it is neither a zip checkpoint nor torch's legacy format)")


def _load_torchscript(file, start, map_location, weights_only):
    """A TorchScript archive given to load: jit.load's module, with PyTorch's warning (refused with weights_only)."""
    from ._weights_only_unpickler import UNSAFE_MESSAGE
    package = _package()
    warnings.warn(f"'{package}.load' received a zip file that looks like a TorchScript archive dispatching to "
                  f"'{package}.jit.load' (call '{package}.jit.load' directly to silence this warning)", UserWarning,
                  stacklevel=3)
    if weights_only:
        raise RuntimeError(f"Cannot use ``weights_only=True`` with TorchScript archives passed to ``{package}.load``. "
                           + UNSAFE_MESSAGE.format(package))
    from .jit import load as jit_load
    file.seek(start)
    return jit_load(file, map_location=map_location)


def get_unsafe_globals_in_checkpoint(f):
    """The ``"module.name"`` globals a checkpoint's pickle names that a ``weights_only`` load would refuse (neither
    allowed by default nor marked safe), found by reading its opcodes without running them, as PyTorch does."""
    import pickletools
    with _opened(f) as (file, name):
        start = file.tell()
        size = file.seek(0, os.SEEK_END) - start
        file.seek(start)
        if not zipfile.is_zipfile(file):
            raise ValueError("Expected input to be a checkpoint returned by torch.save")
        file.seek(start)
        try:
            checkpoint = _ZipCheckpoint(file, name, None, Budget(_default_limit(size), name))
        except RuntimeError as error:
            raise ValueError(f"Expected input to be a checkpoint returned by torch.save: {error}") from None
        pickled = checkpoint.read("data.pkl")
    unsafe = set()
    for module, global_name in _named_globals(pickletools.genops(pickled)):
        try:
            _find_allowed_global(module, global_name)
        except pickle.UnpicklingError:
            unsafe.add(f"{module}.{global_name}")
    return list(unsafe)


_STRING_OPCODES = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING",
                   "STRING"}


def _named_globals(opcodes):
    """``(module, name)`` of each global a pickle names: by GLOBAL and INST, and by STACK_GLOBAL (protocol 4 and up)
    from the two strings it takes, followed through the memo; nothing is run."""
    pushed, memo = [], {}   # the last strings pushed (None for anything else), and the memo's strings
    for opcode, arg, _ in opcodes:
        name = opcode.name
        if name in ("GLOBAL", "INST"):
            yield tuple(arg.split(" ", 1))
        elif name == "STACK_GLOBAL":
            if len(pushed) >= 2 and all(isinstance(part, str) for part in pushed[-2:]):
                yield pushed[-2], pushed[-1]
            pushed[-2:] = [None]
        elif name in _STRING_OPCODES:
            pushed.append(arg)
        elif name == "MEMOIZE":
            memo[len(memo)] = pushed[-1] if pushed else None
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[int(arg)] = pushed[-1] if pushed else None
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            pushed.append(memo.get(int(arg)))
        elif opcode.stack_after:
            pushed.append(None)
