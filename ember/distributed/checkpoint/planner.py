"""``torch.distributed.checkpoint.planner``: the plans a save or load makes (which items each rank writes or reads)
and the planner interfaces."""
import abc
import operator
from dataclasses import dataclass
from enum import Enum, auto
from functools import reduce
from typing import Any

from .metadata import ChunkStorageMetadata, Metadata, MetadataIndex, TensorProperties

__all__ = ["WriteItemType", "LoadItemType", "BytesIOWriteData", "TensorWriteData", "WriteItem", "ReadItem", "SavePlan",
           "LoadPlan", "SavePlanner", "LoadPlanner"]


class WriteItemType(Enum):
    TENSOR = auto()
    SHARD = auto()
    BYTE_IO = auto()


class LoadItemType(Enum):
    TENSOR = auto()
    BYTE_IO = auto()


@dataclass(frozen=True)
class BytesIOWriteData:
    nbytes: int


@dataclass(frozen=True)
class TensorWriteData:
    chunk: ChunkStorageMetadata
    properties: TensorProperties
    size: Any


@dataclass(frozen=True)
class WriteItem:
    """Dataclass which holds information about what needs to be written to storage."""

    index: MetadataIndex
    type: WriteItemType
    bytes_io_data: BytesIOWriteData | None = None
    tensor_data: TensorWriteData | None = None

    def tensor_storage_size(self) -> int | None:
        """The storage size in bytes of the tensor this item writes, or None if it is not a tensor write."""
        if self.tensor_data is None:
            return None
        numels = reduce(operator.mul, self.tensor_data.size, 1)
        return numels * self.tensor_data.properties.dtype.itemsize


@dataclass(frozen=True)
class ReadItem:
    type: LoadItemType
    dest_index: MetadataIndex    # index into the state_dict
    dest_offsets: Any            # offsets into the destination tensor
    storage_index: MetadataIndex  # index into the checkpoint
    storage_offsets: Any         # offset into the checkpoint data
    lengths: Any                 # size of the hypercube to copy


@dataclass(frozen=True)
class SavePlan:
    items: list
    storage_data: Any = None
    planner_data: Any = None
    usable: bool = True


@dataclass
class LoadPlan:
    items: list
    storage_data: Any = None
    planner_data: Any = None


class SavePlanner(abc.ABC):
    """Abstract class defining the protocol used by save_state_dict to plan the save process."""

    _cached_save_plan: dict = {}
    _cached_final_save_plan: dict = {}
    _cached_all_plans: dict = {}
    _cached_global_plan: dict = {}
    _cached_metadata: dict = {}

    @abc.abstractmethod
    def set_up_planner(self, state_dict, storage_meta=None, is_coordinator=False):
        """Initialize this planner to save ``state_dict``."""

    @abc.abstractmethod
    def create_local_plan(self) -> SavePlan:
        """Compute the save plan for the current rank."""

    @abc.abstractmethod
    def create_global_plan(self, all_plans) -> tuple[list, Metadata]:
        """Compute the global checkpoint plan and return the local plan of each rank (coordinator only)."""

    @abc.abstractmethod
    def finish_plan(self, new_plan: SavePlan) -> SavePlan:
        """Merge the plan created by `create_local_plan` and the result of `create_global_plan`."""

    @abc.abstractmethod
    def resolve_data(self, write_item: WriteItem):
        """Transform and prepare ``write_item`` from ``state_dict`` for storage (a tensor or an io.BytesIO)."""


class LoadPlanner:
    """Abstract class defining the protocol used by load_state_dict to plan the load process."""

    @abc.abstractmethod
    def set_up_planner(self, state_dict, metadata=None, is_coordinator=False):
        """Initialize this instance to load data into ``state_dict``."""

    @abc.abstractmethod
    def create_local_plan(self) -> LoadPlan:
        """Create a LoadPlan based on state_dict and metadata provided by set_up_planner."""

    @abc.abstractmethod
    def create_global_plan(self, global_plan):
        """Compute the global load plan and return plans for each rank (coordinator only)."""

    @abc.abstractmethod
    def finish_plan(self, central_plan: LoadPlan) -> LoadPlan:
        """Accept the plan from coordinator and return final LoadPlan."""

    @abc.abstractmethod
    def load_bytes(self, read_item: ReadItem, value) -> None:
        """Load the item described by ``read_item``and ``value``."""

    def resolve_bytes(self, read_item: ReadItem):
        """Return the BytesIO to be used by the StorageReader to load `read_item`."""
        raise NotImplementedError("LoadPlanner.resolve_bytes is not implemented")

    @abc.abstractmethod
    def resolve_tensor(self, read_item: ReadItem):
        """Return the tensor described by ``read_item`` to be used by the StorageReader to load `read_item`."""

    @abc.abstractmethod
    def commit_tensor(self, read_item: ReadItem, tensor) -> None:
        """Call once the StorageReader finished loading data into ``tensor``."""
