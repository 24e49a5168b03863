"""``torch.distributed._shard.sharded_tensor.metadata``: every shard of a sharded tensor and the whole's size and
properties."""
from dataclasses import dataclass, field

from ...checkpoint.metadata import TensorProperties

__all__ = ["ShardedTensorMetadata", "TensorProperties"]


@dataclass
class ShardedTensorMetadata:
    """The shards of every rank (``shards_metadata``), the whole tensor's ``size`` and its ``tensor_properties``."""

    shards_metadata: list = field(default_factory=list)
    size: tuple = ()
    tensor_properties: TensorProperties = field(default_factory=TensorProperties)
