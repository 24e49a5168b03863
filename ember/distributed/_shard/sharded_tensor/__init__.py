"""``torch.distributed._shard.sharded_tensor``: a tensor split into shards held by the ranks of a process group, as
FSDP1's LOCAL_STATE_DICT and (without a DeviceMesh) SHARDED_STATE_DICT give it. Each rank holds its ``Shard``s; the
``ShardedTensorMetadata`` lists every rank's. Distributed checkpoints write and read each rank's shards at their
offsets, so a checkpoint loads on another number of ranks."""
from .api import ShardedTensor, init_from_local_shards
from .metadata import ShardedTensorMetadata, TensorProperties
from .shard import Shard
from ..metadata import ShardMetadata

__all__ = ["ShardedTensor", "ShardedTensorMetadata", "Shard", "ShardMetadata", "TensorProperties",
           "init_from_local_shards"]
