"""``torch.distributed.checkpoint.storage``: the storage layer interfaces (``FileSystemWriter`` and
``FileSystemReader`` implement them)."""
import abc
from dataclasses import dataclass
from typing import Any

__all__ = ["WriteResult", "StorageWriter", "StorageReader"]


@dataclass(frozen=True)
class WriteResult:
    index: Any
    size_in_bytes: int
    storage_data: Any


class StorageWriter(abc.ABC):
    """Interface used by ``save_state_dict`` to write to storage."""

    @abc.abstractmethod
    def reset(self, checkpoint_id=None) -> None:
        """Called to indicate a brand new checkpoint write is going to happen."""

    @abc.abstractmethod
    def set_up_storage_writer(self, is_coordinator: bool, *args: Any, **kwargs: Any) -> None:
        """Initialize this instance."""

    @abc.abstractmethod
    def prepare_local_plan(self, plan):
        """Perform storage-specific local planning."""

    @abc.abstractmethod
    def prepare_global_plan(self, plans):
        """Perform centralized planning of storage."""

    @abc.abstractmethod
    def write_data(self, plan, planner):
        """Write all items from ``plan`` using ``planner`` to resolve the data; returns a Future of WriteResults."""

    @abc.abstractmethod
    def finish(self, metadata, results) -> None:
        """Write the metadata and marks the current checkpoint as successful."""

    @classmethod
    @abc.abstractmethod
    def validate_checkpoint_id(cls, checkpoint_id) -> bool:
        """Check if the given checkpoint_id is supported by the storage."""

    def storage_meta(self):
        """Return the storage-specific information."""
        return None


class StorageReader(abc.ABC):
    """Interface used by ``load_state_dict`` to read from storage."""

    @abc.abstractmethod
    def reset(self, checkpoint_id=None) -> None:
        """Called to indicate a brand new checkpoint read is going to happen."""

    @abc.abstractmethod
    def read_metadata(self, *args: Any, **kwargs: Any):
        """Read the checkpoint metadata."""

    @abc.abstractmethod
    def set_up_storage_reader(self, metadata, is_coordinator: bool, *args: Any, **kwargs: Any) -> None:
        """Initialize this instance."""

    @abc.abstractmethod
    def prepare_local_plan(self, plan):
        """Perform storage-specific local planning."""

    @abc.abstractmethod
    def prepare_global_plan(self, plans):
        """Perform centralized planning of storage loading."""

    @abc.abstractmethod
    def read_data(self, plan, planner):
        """Read all items from ``plan`` using ``planner`` to resolve the data."""

    @classmethod
    @abc.abstractmethod
    def validate_checkpoint_id(cls, checkpoint_id) -> bool:
        """Check if the given checkpoint_id is supported by the storage."""
