"""save/load in PyTorch's zip checkpoint format, so checkpoints move freely between ember and PyTorch.

An archive holds ``<name>/data.pkl`` (the pickled object, each tensor replaced by a reference to a storage),
``<name>/data/<key>`` (each storage's raw bytes, 64-byte aligned) and the small records torch writes (version,
byteorder, .format_version, .storage_alignment, .data/serialization_id). The pickle names torch's globals
(``torch._utils._rebuild_tensor_v2``, ``torch.FloatStorage``, ``torch.float32``, ...) as text, and loading maps
those names back to ember, so torch is never imported.
"""
import _compat_pickle
import codecs
import contextlib
import io
import os
import pickle
import stat
import struct
import sys
import zipfile
from collections import Counter, OrderedDict

import numpy

from . import _backend, _dtype
from ._tensor import Size, Tensor, _make, _rebuild_from_array

__all__ = ["save", "load"]

_ALIGNMENT = 64
_LOCAL_HEADER_SIZE = 30
_ZIP64_EXTRA_SIZE = 20
_LEGACY_MAGIC = b"\x80\x02\x8a\x0al\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19."  # pickle.dumps(0x1950a86a20f9469cfc6c, 2)
_STORAGE_NAMES = {"bool": "BoolStorage", "uint8": "ByteStorage", "int8": "CharStorage", "int16": "ShortStorage",
                  "int32": "IntStorage", "int64": "LongStorage", "float16": "HalfStorage",
                  "bfloat16": "BFloat16Storage", "float32": "FloatStorage", "float64": "DoubleStorage",
                  "complex64": "ComplexFloatStorage", "complex128": "ComplexDoubleStorage"}
_UNSAFE_MESSAGE = ("Re-running `ember.load` with `weights_only` set to `False` will likely succeed, but it can result "
                   "in arbitrary code execution. Do it only if you got the file from a trusted source.")


# --- saving -----------------------------------------------------------------------------------------
class _TorchGlobal:
    """A torch function or class named by text: pickles as ``GLOBAL module name`` without importing torch."""

    __slots__ = ("module", "name")
    _interned = {}

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
        return _torch_global(self.module, self.name)(*args)


class _StorageRef:
    """One storage in an archive being written: pickled as torch's persistent id for it."""

    __slots__ = ("key", "dtype", "location", "data")

    def __init__(self, key, dtype, location, data):
        self.key, self.dtype, self.location, self.data = key, dtype, location, data

    def persistent_id(self):
        if self.dtype.name not in _STORAGE_NAMES:
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
        array, location = tensor._data, str(tensor.device)
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
    """Strides in elements; a dimension of size 0 or 1 gets the row-major stride, as torch gives it."""
    strides, step = [], 1
    for n, s in zip(reversed(array.shape), reversed(array.strides)):
        strides.append(s // array.itemsize if n > 1 else step)
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

    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, file, protocol, storages):
        super().__init__(file, protocol)
        self._storages = storages

    def persistent_id(self, obj):
        return obj.persistent_id() if type(obj) is _StorageRef else None

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            return self._reduce_tensor(obj)
        if isinstance(obj, Size):
            return _TorchGlobal("torch", "Size"), (tuple(obj),)
        if isinstance(obj, _backend.device):
            return _TorchGlobal("torch", "device"), (obj.type,) if obj.index is None else (obj.type, obj.index)
        return NotImplemented

    def _reduce_tensor(self, tensor):
        from .nn.parameter import Parameter
        if isinstance(tensor, Parameter):
            return _TorchGlobal("torch._utils", "_rebuild_parameter"), (_make(tensor._data), tensor.requires_grad,
                                                                         OrderedDict())
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
            self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("utf-8"))
        self.memoize(obj)

    def _save_dtype(self, obj):
        self.save(_TorchGlobal("torch", obj.name))

    dispatch[_TorchGlobal] = _save_torch_global
    dispatch[_dtype.dtype] = _save_dtype


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


class _Stream:
    """Hides a file's seek and tell, so zipfile streams each record with a data descriptor after its data.

    That is the layout torch's writer (miniz) produces; torch relies on it to compute record offsets when it
    memory-maps a checkpoint.
    """

    def __init__(self, file):
        self.write = file.write
        self.flush = getattr(file, "flush", lambda: None)


def _write_archive(obj, file, archive_name, protocol):
    storages = _Storages()
    pickled = io.BytesIO()
    _Pickler(pickled, protocol, storages).dump(obj)
    with zipfile.ZipFile(_Stream(file), "w", zipfile.ZIP_STORED) as archive:
        def write(name, data):
            _write_record(archive, f"{archive_name}/{name}", data)
        write("data.pkl", pickled.getvalue())
        write(".format_version", b"1")
        write(".storage_alignment", str(_ALIGNMENT).encode())
        write("byteorder", sys.byteorder.encode())
        for ref in storages.refs:
            write(f"data/{ref.key}", ref.data)
        write("version", b"3\n")
        write(".data/serialization_id", _serialization_id())


def _serialization_id():
    """40 random digits, the form of the id torch writes."""
    return "".join(f"{int.from_bytes(os.urandom(8), 'little'):020d}" for _ in range(2)).encode()


def _atomic_write(path, write):
    """Calls ``write(file)`` on a temporary file next to ``path`` and renames it over ``path`` once it is on disk.

    A crash or kill midway leaves any previous file at ``path`` whole; the temporary is a hidden ``.tmp`` file.
    """
    path = os.path.realpath(path)
    directory, base = os.path.split(path)
    if not os.path.isdir(directory):
        raise RuntimeError(f"Parent directory {directory} does not exist.")
    if os.path.isdir(path):
        raise RuntimeError(f"File {path} cannot be opened.")
    temp, descriptor = _create_temp(directory, base)
    try:
        if os.path.exists(path):
            os.chmod(temp, stat.S_IMODE(os.stat(path).st_mode))
        with os.fdopen(descriptor, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_directory(directory)


def _create_temp(directory, base):
    while True:
        temp = os.path.join(directory, f".{base}.{os.urandom(6).hex()}.tmp")
        try:  # os.open with 0o666 lets the umask decide the permissions, as for a plain open()
            return temp, os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue


def _fsync_directory(directory):
    """Makes the rename durable; directories cannot be opened for syncing on Windows."""
    if os.name == "nt":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def save(obj, f, pickle_protocol=2):
    """Saves ``obj`` (tensors, state_dicts, optimizer states, modules, ...) to a path or binary file in PyTorch's
    zip format; a path is replaced atomically, so an interrupted save leaves the previous file intact."""
    if isinstance(f, (str, os.PathLike)):
        name = os.path.splitext(os.path.basename(os.fspath(f)))[0] or "archive"
        _atomic_write(f, lambda file: _write_archive(obj, file, name, pickle_protocol))
    else:
        _write_archive(obj, f, "archive", pickle_protocol)


# --- loading ----------------------------------------------------------------------------------------
class _StorageType:
    """What ``torch.FloatStorage`` and its kin load as: the element type of a storage."""

    __slots__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtype


class Storage:
    """A loaded storage: a flat array of one dtype on one device. ``map_location`` callables receive one."""

    __slots__ = ("data",)

    def __init__(self, data):
        self.data = data

    @property
    def dtype(self):
        return _dtype.from_numpy(self.data.dtype)

    @property
    def device(self):
        return _backend.device_of(self.data)

    def nbytes(self):
        """The size in bytes."""
        return self.data.nbytes

    def size(self):
        """The number of elements."""
        return self.data.size

    def to(self, device):
        """This storage on ``device`` (itself when already there)."""
        return Storage(_backend.move(self.data, _device_for(device)))

    def cpu(self):
        """This storage in host memory."""
        return self.to("cpu")

    def cuda(self, device=None):
        """This storage on a CUDA device (the first by default)."""
        return self.to(_backend.device("cuda", device) if isinstance(device, int) else device or "cuda")

    def __repr__(self):
        return f"ember.Storage(dtype={self.dtype}, device={self.device}, size={self.size()})"


def _device_for(location):
    """The device a saved location tag or map_location value names, with torch's errors for unusable ones."""
    if isinstance(location, bytes):
        location = location.decode("ascii")
    device = _backend.as_device(location)
    if device.type == "cuda" and not _backend.cuda_available():
        raise RuntimeError("Attempting to deserialize object on a CUDA device but ember.cuda.is_available() is False. "
                           "If you are running on a CPU-only machine, please use ember.load with "
                           "map_location=ember.device('cpu') to map your storages to the CPU.")
    if device.type not in ("cpu", "cuda"):
        raise RuntimeError(f"don't know how to restore data location of a storage tagged with {device}")
    return device


def _restore_location(storage, location, map_location):
    """Moves a freshly read storage where ``map_location`` says (torch's rules for None, str, device, dict, callable)."""
    if map_location is None:
        return storage.to(location)
    if isinstance(map_location, dict):
        return storage.to(map_location.get(location, location))
    if isinstance(map_location, (str, bytes, _backend.device)):
        return storage.to(map_location)
    moved = map_location(storage, location)
    return storage.to(location) if moved is None else moved


def _rebuild_tensor(storage, storage_offset, size, stride):
    """A tensor viewing ``storage`` with the given layout, all in elements (torch._utils._rebuild_tensor)."""
    if not isinstance(storage, Storage):
        raise pickle.UnpicklingError(f"expected a storage to rebuild a tensor from, got {type(storage).__name__}")
    size, stride = tuple(size), tuple(stride)
    _check_layout(storage, storage_offset, size, stride)
    data, itemsize = storage.data, storage.data.itemsize
    xp = _backend.xp_of(data)
    view = xp.lib.stride_tricks.as_strided(data[storage_offset:], shape=size, strides=[s * itemsize for s in stride])
    return _make(view)


def _check_layout(storage, offset, size, stride):
    """Refuses layouts that would reach outside the storage (a crafted file must not read foreign memory)."""
    values = (offset,) + size + stride
    if not all(type(v) is int and v >= 0 for v in values) or len(size) != len(stride):
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
    tensor = _rebuild_tensor(storage, storage_offset, size, stride)
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None):
    """torch._utils._rebuild_tensor_v3: like v2, over an untyped (byte) storage read as ``dtype``."""
    if not isinstance(storage, Storage) or not isinstance(dtype, _dtype.dtype):
        raise pickle.UnpicklingError("expected a storage and a dtype to rebuild a tensor from")
    typed = Storage(storage.data.view(dtype.numpy))
    return _rebuild_tensor_v2(typed, storage_offset, size, stride, requires_grad, backward_hooks, metadata)


def _rebuild_parameter(data, requires_grad, backward_hooks):
    """torch._utils._rebuild_parameter: a Parameter around a loaded tensor."""
    from .nn.parameter import Parameter
    return Parameter(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    """torch._utils._rebuild_parameter_with_state: a Parameter that also carries Python attributes."""
    parameter = _rebuild_parameter(data, requires_grad, backward_hooks)
    _set_tensor_state(parameter, state)
    return parameter


def _rebuild_from_type_v2(func, new_type, args, state):
    """torch._tensor._rebuild_from_type_v2: a tensor of a subclass or with Python attributes."""
    tensor = func(*args)
    if isinstance(new_type, type) and issubclass(new_type, Tensor) and type(tensor) is not new_type:
        tensor = _make(tensor._data, requires_grad=tensor.requires_grad, cls=new_type)
    _set_tensor_state(tensor, state)
    return tensor


def _set_tensor_state(tensor, state):
    if isinstance(state, tuple):  # (dict state, slots state)
        state = {**(state[0] or {}), **(state[1] or {})}
    for name, value in (state or {}).items():
        setattr(tensor, name, value)


_rebuild_tensor_from_array = _rebuild_from_array   # the name plain pickles made before ember 0.1.1 refer to


def _torch_globals():
    from .nn.parameter import Parameter
    table = {("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
             ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
             ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
             ("torch.storage", "UntypedStorage"): _StorageType(_dtype.uint8),
             ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
             ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
             ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
             ("torch", "Size"): Size, ("torch", "device"): _backend.device,
             ("torch", "Tensor"): Tensor, ("torch._tensor", "Tensor"): Tensor,
             ("torch.nn.parameter", "Parameter"): Parameter, ("ember.nn.parameter", "Parameter"): Parameter,
             ("torch", "UntypedStorage"): _StorageType(_dtype.uint8)}
    for d in _dtype.ALL:
        table["torch", d.name] = d
        if d.name in _STORAGE_NAMES:
            table["torch", _STORAGE_NAMES[d.name]] = _StorageType(d)
    return table


_TORCH_GLOBALS = {}  # filled on first use: it names ember.nn, which is imported after this module


def _torch_global(module, name):
    """The ember object standing for a torch global (or a safe ember one) that checkpoints name; None if unknown."""
    if not _TORCH_GLOBALS:
        _TORCH_GLOBALS.update(_torch_globals())
    return _TORCH_GLOBALS.get((module, name))


_SAFE_GLOBALS = {("collections", "OrderedDict"): OrderedDict, ("collections", "Counter"): Counter,
                 ("_codecs", "encode"): codecs.encode, ("builtins", "bytearray"): bytearray,
                 ("builtins", "bytes"): bytes, ("builtins", "set"): set, ("builtins", "frozenset"): frozenset,
                 ("builtins", "complex"): complex, ("builtins", "slice"): slice,
                 ("ember._dtype", "_by_name"): _dtype._by_name, ("ember._tensor", "Size"): Size,
                 ("ember._backend", "device"): _backend.device}


class _Unpickler(pickle.Unpickler):
    """Maps torch's names to ember and reads storages from the archive; with ``weights_only`` it refuses every
    global outside tensors, containers, dtypes, sizes and devices."""

    def __init__(self, file, load_storage, weights_only, **pickle_load_args):
        super().__init__(file, **pickle_load_args)
        self._load_storage = load_storage
        self._weights_only = weights_only

    def find_class(self, module, name):
        # Protocol 2 pickles name Python 2 modules (__builtin__, copy_reg); map them first, as the C unpickler does.
        mapped_module, mapped_name = _compat_pickle.NAME_MAPPING.get(
            (module, name), (_compat_pickle.IMPORT_MAPPING.get(module, module), name))
        found = _torch_global(mapped_module, mapped_name)
        if found is None:
            found = _SAFE_GLOBALS.get((mapped_module, mapped_name))
        if found is not None:
            return found
        if self._weights_only:
            raise pickle.UnpicklingError(
                f"Weights only load failed. {_UNSAFE_MESSAGE}\n\tWeightsUnpickler error: Unsupported global: "
                f"GLOBAL {mapped_module}.{mapped_name} was not an allowed global by default.")
        return super().find_class(module, name)

    def persistent_load(self, saved_id):
        return self._load_storage(saved_id)


def _parse_storage_id(saved_id, legacy=False):
    """``(dtype, key, location, numel[, view])`` from torch's persistent id, validated."""
    size = 6 if legacy else 5
    if not isinstance(saved_id, tuple) or len(saved_id) != size or _text(saved_id[0]) != "storage" \
            or not isinstance(saved_id[1], _StorageType) or type(saved_id[4]) is not int or saved_id[4] < 0:
        raise pickle.UnpicklingError(f"unsupported persistent id in checkpoint: {saved_id!r}")
    return (saved_id[1].dtype, _text(saved_id[2]), _text(saved_id[3])) + saved_id[4:]


def _text(value):
    return value.decode("ascii") if isinstance(value, bytes) else str(value)


class _ZipCheckpoint:
    """The records of a zip checkpoint, all under its one top-level folder."""

    def __init__(self, file, name, mmap_path):
        self.name = name
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

    def read(self, name):
        return self._zip.read(self._prefix + name)

    def read_bytes(self, name, nbytes):
        """Record ``name`` as a writable uint8 array (memory-mapped copy-on-write when loading with mmap)."""
        if not self.has(name):
            raise RuntimeError(f"PytorchStreamReader failed locating file {self._prefix}{name}: file not found "
                               f"(in {self.name})")
        info = self._zip.getinfo(self._prefix + name)
        if info.file_size != nbytes:
            raise RuntimeError(f"{self.name}: record {info.filename} holds {info.file_size} bytes, but its tensor "
                               f"data needs {nbytes}")
        if self._mmap_path is not None and nbytes:
            mapped = numpy.memmap(self._mmap_path, numpy.uint8, "c", self._data_offset(info), (nbytes,))
            return mapped.view(numpy.ndarray)
        data = numpy.empty(nbytes, numpy.uint8)
        with self._zip.open(info) as record:
            view, position = memoryview(data), 0
            while position < nbytes:  # bounded chunks keep the transient copy small
                position += record.readinto(view[position:position + (1 << 24)])
        return data

    def _data_offset(self, info):
        if info.compress_type != zipfile.ZIP_STORED:
            raise RuntimeError(f"{self.name}: record {info.filename} is compressed and cannot be memory-mapped")
        self._file.seek(info.header_offset + 26)
        name_length, extra_length = struct.unpack("<HH", self._file.read(4))
        return info.header_offset + _LOCAL_HEADER_SIZE + name_length + extra_length


def _load_zip(checkpoint, map_location, weights_only, pickle_load_args):
    byteorder = checkpoint.read("byteorder").decode() if checkpoint.has("byteorder") else "little"
    loaded = {}

    def load_storage(saved_id):
        dtype, key, location, numel = _parse_storage_id(saved_id)
        if key not in loaded:
            data = checkpoint.read_bytes(f"data/{key}", numel * dtype.itemsize).view(dtype.numpy)
            if byteorder != sys.byteorder:
                data.byteswap(inplace=True)
            loaded[key] = _restore_location(Storage(data), location, map_location)
        return loaded[key]

    pickled = io.BytesIO(checkpoint.read("data.pkl"))
    return _Unpickler(pickled, load_storage, weights_only, **pickle_load_args).load()


def _load_legacy(file, map_location, weights_only, pickle_load_args):
    """Reads torch's pre-1.6 format: pickles for magic, version and system info, the object, the storage keys,
    then each storage's element count and raw bytes."""
    def restricted_load():
        return _Unpickler(file, None, True, **pickle_load_args).load()
    restricted_load(), restricted_load(), restricted_load()  # magic number, protocol version, system info
    storages = {}

    def load_storage(saved_id):
        dtype, key, location, numel, view = _parse_storage_id(saved_id, legacy=True)
        if key not in storages:
            storages[key] = (numpy.empty(numel, dtype.numpy), location)
        data = storages[key][0]
        if view is not None:
            _, offset, view_numel = view
            data = data[offset:offset + view_numel]
        return Storage(data)

    result = _Unpickler(file, load_storage, weights_only, **pickle_load_args).load()
    for key in restricted_load():
        data = storages[key][0]
        count = struct.unpack("<q", file.read(8))[0]
        if count != data.size or file.readinto(memoryview(data.view(numpy.uint8))) != data.nbytes:
            raise RuntimeError(f"legacy checkpoint is truncated or corrupt at storage {key}")
    if any(location != "cpu" for _, location in storages.values()) or map_location not in (None, "cpu"):
        raise RuntimeError("ember reads legacy (pre-zip) torch checkpoints onto the CPU only; re-save the file with "
                           "torch.save to use map_location")
    return result


@contextlib.contextmanager
def _opened(f):
    """``(binary seekable file, name for messages)`` for a path or a file-like object."""
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as file:
            yield file, f"'{os.fspath(f)}'"
        return
    name = f"'{f.name}'" if isinstance(getattr(f, "name", None), str) else repr(f)
    yield (f if f.seekable() else io.BytesIO(f.read())), name


def load(f, map_location=None, *, weights_only=True, mmap=None, **pickle_load_args):
    """Loads an object saved by ``ember.save`` or ``torch.save`` from a path or binary file.

    ``weights_only`` (default True) only unpickles tensors, containers, dtypes, sizes and devices; ``map_location``
    (a device, a string, a dict of location tags, or a callable) says where storages go; ``mmap`` maps a file's
    tensor data instead of reading it.
    """
    pickle_load_args.setdefault("encoding", "utf-8")
    if mmap and not isinstance(f, (str, os.PathLike)):
        raise ValueError("f must be a file path in order to use the mmap argument")
    with _opened(f) as (file, name):
        start = file.tell()
        head = file.read(len(_LEGACY_MAGIC))
        file.seek(start)
        try:
            if head.startswith(b"PK\x03\x04"):
                checkpoint = _ZipCheckpoint(file, name, os.fspath(f) if mmap else None)
                return _load_zip(checkpoint, map_location, weights_only, pickle_load_args)
            if head == _LEGACY_MAGIC:
                if mmap:
                    raise RuntimeError(f"mmap can only be used with files saved with `torch.save(_use_new_zipfile_"
                                       f"serialization=True), got {name} in the legacy format")
                return _load_legacy(file, map_location, weights_only, pickle_load_args)
        except (zipfile.BadZipFile, EOFError, struct.error, zipfile.LargeZipFile) as error:
            raise RuntimeError(f"PytorchStreamReader failed reading zip archive {name}: {error} (the file is "
                               "truncated or corrupt)") from None
        if not head:
            raise RuntimeError(f"{name} is empty: it holds no checkpoint (was the save interrupted?)")
        raise RuntimeError(f"PytorchStreamReader failed reading zip archive {name}: failed finding central "
                           "directory (it is neither a zip checkpoint nor torch's legacy format)")
