"""Reading and writing a checkpoint's ``.metadata`` file.

Written as PyTorch writes it (``pickle.dump`` of a Metadata) with torch's names for ember's classes, so torch's
``FileSystemReader`` reads it. Read through ember's restricted unpickler (``_weights_only_unpickler``): its globals
are exactly the metadata dataclasses, ``_StorageInfo``, ``torch.Size``, dtypes, the strided layout and paths, so a
hostile ``.metadata`` (a pickle naming ``os.system``, a BUILD onto a dtype) is refused before anything runs."""
import io
import pathlib
import pickle

from ... import _dtype
from ..._weights_only_unpickler import Budget, Unpickler

_MAX_BYTES = 1 << 31   # what bytes/bytearray opcodes may allocate: metadata holds none in PyTorch's files


def dump(metadata, file):
    """Pickles ``metadata`` into ``file`` with pickle's default protocol, ember's classes under torch's names."""
    from ...serialization import _Pickler, _Storages
    _Pickler(file, pickle.DEFAULT_PROTOCOL, _Storages()).dump(metadata)


def _path(budget, *parts):
    if not all(isinstance(part, str) for part in parts):
        raise pickle.UnpicklingError("a path in checkpoint metadata takes str parts")
    return pathlib.Path(*parts)


def _allowed():
    from ...serialization import _size
    from ...sparse._layout import get_layout
    from ..._tensor import Size
    from . import filesystem, metadata
    classes = {("torch.distributed.checkpoint.metadata", name): getattr(metadata, name)
               for name in ("Metadata", "TensorStorageMetadata", "BytesStorageMetadata", "ChunkStorageMetadata",
                            "TensorProperties", "MetadataIndex", "StorageMeta", "_MEM_FORMAT_ENCODING")}
    classes["torch.distributed.checkpoint.filesystem", "_StorageInfo"] = filesystem._StorageInfo
    others = {("torch", "Size"): Size, ("torch.serialization", "_get_layout"): get_layout}
    for name in ("PosixPath", "WindowsPath", "PurePosixPath", "PureWindowsPath", "Path"):
        others["pathlib", name] = pathlib.Path
    for d in _dtype.ALL:
        others["torch", d.name] = d
    constructors = {Size: _size, get_layout: lambda budget, name: get_layout(name), pathlib.Path: _path}
    return classes, others, constructors


def load(file):
    """The Metadata pickled in ``file``; ``pickle.UnpicklingError`` for any global besides the metadata's own."""
    classes, others, constructors = _allowed()

    def find_global(module, name):
        found = classes.get((module, name), others.get((module, name)))
        if found is None:
            raise pickle.UnpicklingError(f"Unsupported global: GLOBAL {module}.{name} is not allowed in checkpoint "
                                         "metadata (only torch.distributed.checkpoint's metadata classes, "
                                         "torch.Size, dtypes and paths are)")
        return found

    data = file.read()
    stream = io.BytesIO(data)
    result = Unpickler(stream, find_global=find_global, constructors=constructors, persistent_load=_no_persistent,
                       budget=Budget(_MAX_BYTES, "checkpoint metadata"), trusted=list(classes.values()),
                       end=len(data)).load()
    from .metadata import Metadata
    if not isinstance(result, Metadata):
        raise pickle.UnpicklingError(f"checkpoint metadata holds a {type(result).__name__}, not a Metadata")
    return result


def _no_persistent(saved_id):
    raise pickle.UnpicklingError("checkpoint metadata holds no persistent ids")
