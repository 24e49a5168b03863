"""torch.serialization's switches (``skip_data``, the mmap flags of ``load(mmap=True)``, the byte order assumed for a
checkpoint without a byteorder record, whether ``save`` writes CRC-32 checksums) and its small public helpers."""
import contextlib
import enum
import mmap
import shutil
import tempfile
import threading

__all__ = [
    "LoadEndianness",
    "SourceChangeWarning",
    "StorageType",
    "check_module_version_greater_or_equal",
    "get_crc32_options",
    "get_default_load_endianness",
    "get_default_mmap_options",
    "mkdtemp",
    "normalize_storage_type",
    "set_crc32_options",
    "set_default_load_endianness",
    "set_default_mmap_options",
    "skip_data",
    "storage_to_tensor_type",
]

MAP_PRIVATE, MAP_SHARED = getattr(mmap, "MAP_PRIVATE", None), getattr(mmap, "MAP_SHARED", None)


class _Local(threading.local):
    skip_data = False
    materialize_fake_tensors = False


local = _Local()
"""This thread's ``skip_data`` state, which save and load read."""

_config = {"endianness": None, "mmap_flags": MAP_PRIVATE, "compute_crc32": True}


class skip_data:
    """Context manager: ``save`` writes storages' records as zeros of their size (their bytes can be filled in a
    later pass) and ``load`` leaves loaded storages unfilled. ``materialize_fake_tensors`` is accepted for
    PyTorch's signature; ember makes no fake tensors."""

    def __init__(self, materialize_fake_tensors=False):
        self.materialize_fake_tensors = materialize_fake_tensors

    def __enter__(self):
        self._old = (local.skip_data, local.materialize_fake_tensors)
        local.skip_data, local.materialize_fake_tensors = True, self.materialize_fake_tensors

    def __exit__(self, *exc):
        local.skip_data, local.materialize_fake_tensors = self._old


class LoadEndianness(enum.Enum):
    """The byte order ``load`` assumes for a checkpoint without a byteorder record."""
    NATIVE = 1
    LITTLE = 2
    BIG = 3


def get_default_load_endianness():
    """The byte order assumed for checkpoints without a byteorder record (None: little-endian, as PyTorch's)."""
    return _config["endianness"]


def set_default_load_endianness(endianness):
    """Sets the byte order assumed for checkpoints without a byteorder record (a LoadEndianness or None)."""
    if not isinstance(endianness, LoadEndianness) and endianness is not None:
        raise TypeError("Invalid argument type in function set_default_load_endianness")
    _config["endianness"] = endianness


def fallback_byteorder(native):
    """``'little'`` or ``'big'``: the byte order of a checkpoint without a byteorder record."""
    endianness = _config["endianness"]
    return {None: "little", LoadEndianness.LITTLE: "little", LoadEndianness.BIG: "big",
            LoadEndianness.NATIVE: native}[endianness]


def get_crc32_options():
    """Whether ``save`` computes and writes each record's CRC-32 (default True)."""
    return _config["compute_crc32"]


def set_crc32_options(compute_crc32):
    """Sets whether ``save`` computes each record's CRC-32 (False writes zeros: faster; ``load`` still reads it)."""
    _config["compute_crc32"] = compute_crc32


def get_default_mmap_options():
    """The mmap flags of ``load(..., mmap=True)``: ``mmap.MAP_PRIVATE`` (copy-on-write, the default) or
    ``mmap.MAP_SHARED`` (writes to loaded tensors reach the file)."""
    return _config["mmap_flags"]


class set_default_mmap_options:
    """Sets the mmap flags of ``load(..., mmap=True)``, as a function or, restoring the old ones on exit, a context
    manager: ``mmap.MAP_PRIVATE`` or ``mmap.MAP_SHARED``."""

    def __init__(self, flags):
        if MAP_PRIVATE is None:
            raise RuntimeError("Changing the default mmap options is currently not supported for Windows")
        if flags != MAP_PRIVATE and flags != MAP_SHARED:
            raise ValueError("Invalid argument in function set_default_mmap_options, expected mmap.MAP_PRIVATE or "
                             f"mmap.MAP_SHARED, but got {flags}")
        self.prev = _config["mmap_flags"]
        _config["mmap_flags"] = flags

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _config["mmap_flags"] = self.prev


class StorageType:
    """The element type a pickled storage class name (``'FloatStorage'``) stands for."""

    def __init__(self, name):
        from .storage import LEGACY_STORAGES
        by_name = {kind.__name__: dtype for dtype, kind in LEGACY_STORAGES.items()}
        if name not in by_name:
            raise KeyError(f'pickle storage type "{name}" is not recognized')
        self._dtype = by_name[name]

    @property
    def dtype(self):
        """The element type."""
        return self._dtype

    def __str__(self):
        return f"StorageType(dtype={self.dtype})"


@contextlib.contextmanager
def mkdtemp():
    """A temporary directory, removed with its contents on exit."""
    path = tempfile.mkdtemp()
    try:
        yield path
    finally:
        shutil.rmtree(path)


class SourceChangeWarning(Warning):
    """Warned by PyTorch when a whole pickled module's source changed since it was saved."""


def normalize_storage_type(storage_type):
    """The class of that name in the top-level package (``FloatStorage`` for any ``FloatStorage`` class)."""
    import importlib
    return getattr(importlib.import_module(__package__), storage_type.__name__)


def storage_to_tensor_type(storage):
    """The legacy tensor class matching a storage's class (``FloatTensor`` for a ``FloatStorage``)."""
    import importlib
    storage_type = type(storage)
    module = importlib.import_module(storage_type.__module__)
    return getattr(module, storage_type.__name__.replace("Storage", "Tensor"))


def check_module_version_greater_or_equal(module, req_version_tuple, error_if_malformed=True):
    """Whether ``module.__version__`` is at least ``req_version_tuple`` (its fields cast to the tuple's types); a
    malformed version raises RuntimeError, or with ``error_if_malformed=False`` warns and counts as met."""
    try:
        fields = module.__version__.split(".")
        version = tuple(type(required)(fields[index]) for index, required in enumerate(req_version_tuple))
        return version >= req_version_tuple
    except Exception as error:
        message = (f"'{module.__name__}' module version string is malformed '{module.__version__}' and cannot be "
                   f"compared with tuple {req_version_tuple!s}")
        if error_if_malformed:
            raise RuntimeError(message) from error
        import warnings
        warnings.warn(message + ", but continuing assuming that requirement is met", stacklevel=2)
        return True
