"""``torch.distributed.checkpoint.metadata``: what a checkpoint's ``.metadata`` file holds, as PyTorch's dataclasses.

Pickled under torch's names (``torch.distributed.checkpoint.metadata.Metadata``, ...), so torch reads the metadata ember
writes; ember reads a ``.metadata`` file through ``_unpickler``, which allows these classes and nothing else. Each
class's ``__setstate__`` takes only its own fields, the state pickle's BUILD gives it."""
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any

from ... import _dtype
from ..._memory_format import channels_last, contiguous_format, preserve_format
from ..._tensor import Size

__all__ = ["ChunkStorageMetadata", "TensorStorageMetadata", "BytesStorageMetadata", "Metadata", "MetadataIndex",
           "TensorProperties", "StorageMeta"]


def _set_fields(obj, state):
    """BUILD for a metadata dataclass: a dict of its own fields only (a file naming anything else is refused)."""
    if not isinstance(state, dict):
        raise TypeError(f"{type(obj).__name__} state must be a dict, got {type(state).__name__}")
    names = {f.name for f in fields(obj)}
    for name, value in state.items():
        if name not in names:
            raise TypeError(f"{type(obj).__name__} has no field {name!r}")
        object.__setattr__(obj, name, value)


class _Fields:
    """Mixin: the ``__setstate__`` of the metadata dataclasses (see ``_set_fields``)."""

    def __setstate__(self, state):
        _set_fields(self, state)


@dataclass
class ChunkStorageMetadata(_Fields):
    """One stored chunk of a tensor: where it starts (``offsets``) and its ``sizes``; each chunk has the properties of
    the TensorStorageMetadata holding it."""

    offsets: Size
    sizes: Size


class _MEM_FORMAT_ENCODING(Enum):
    """Describe the memory format of a tensor."""

    TORCH_CONTIGUOUS_FORMAT = 0
    TORCH_CHANNELS_LAST = 1
    TORCH_PRESERVE_FORMAT = 2


_FORMATS = ((contiguous_format, _MEM_FORMAT_ENCODING.TORCH_CONTIGUOUS_FORMAT),
            (channels_last, _MEM_FORMAT_ENCODING.TORCH_CHANNELS_LAST),
            (preserve_format, _MEM_FORMAT_ENCODING.TORCH_PRESERVE_FORMAT))


def _default_dtype():
    from ... import get_default_dtype
    return get_default_dtype()


def _strided():
    from ... import strided
    return strided


@dataclass
class TensorProperties:
    """Properties used to create :class:`Tensor`"""

    dtype: _dtype.dtype = field(default_factory=_default_dtype)
    layout: Any = field(default_factory=_strided)   # deprecated in PyTorch, kept in the file
    requires_grad: bool = False                     # deprecated
    memory_format: Any = field(default=contiguous_format)   # deprecated
    pin_memory: bool = False                        # deprecated

    def __getstate__(self):   # a memory format is not picklable: torch stores its enum
        for memory_format, encoding in _FORMATS:
            if self.memory_format == memory_format:
                return self.dtype, self.layout, self.requires_grad, encoding, self.pin_memory
        raise RuntimeError(f"Invalid torch.memory_format: {self.memory_format}")

    def __setstate__(self, state):
        if not isinstance(state, tuple) or len(state) != 5:
            raise TypeError("TensorProperties state must be a 5-tuple")
        self.dtype, self.layout, self.requires_grad, encoding, self.pin_memory = state
        for memory_format, known in _FORMATS:
            if encoding == known:
                self.memory_format = memory_format
                return
        raise RuntimeError(f"Invalid torch.memory_format encoding: {encoding}")

    @staticmethod
    def create_from_tensor(tensor) -> "TensorProperties":
        return TensorProperties(dtype=tensor.dtype, layout=tensor.layout, requires_grad=tensor.requires_grad,
                                memory_format=contiguous_format, pin_memory=tensor.is_pinned())


@dataclass
class TensorStorageMetadata(_Fields):
    """A saved tensor: its properties, its full size and the chunks it was stored in."""

    properties: TensorProperties
    size: Size
    chunks: list


@dataclass
class BytesStorageMetadata(_Fields):
    """A saved non-tensor value (stored as a ``torch.save`` of it)."""


STORAGE_TYPES = TensorStorageMetadata | BytesStorageMetadata
STATE_DICT_TYPE = dict


@dataclass
class StorageMeta(_Fields):
    """Where and under which ids a checkpoint was saved and loaded."""

    checkpoint_id: str | os.PathLike | None = None
    save_id: str | None = None
    load_id: str | None = None
    modules: list = field(default_factory=list)


@dataclass
class Metadata(_Fields):
    """This class represents the metadata of the checkpoint."""

    state_dict_metadata: dict   # keys are the flattened state_dict's keys
    planner_data: Any = None
    storage_data: Any = None
    storage_meta: StorageMeta | None = None
    version: str | None = None


@dataclass(frozen=True)
class MetadataIndex(_Fields):
    """This class represents a lookup key for items in a state dict or Metadata."""

    fqn: str
    """Fully Qualified Name of the object"""

    offset: Size | None = None
    """If the object is a tensor, offset into the tensor we're looking for"""

    index: int | None = field(hash=False, compare=False, default=None)
    """Index hint when searching for tensor chunk to speedup lookups (optional)"""

    def __init__(self, fqn: str, offset: Sequence[int] | None = None, index: int | None = None):
        object.__setattr__(self, "fqn", fqn)
        object.__setattr__(self, "index", index)
        if offset is not None:
            object.__setattr__(self, "offset", Size(offset))
