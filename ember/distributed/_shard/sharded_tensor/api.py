"""``torch.distributed._shard.sharded_tensor.api``: ``ShardedTensor``, a whole tensor's size and dtype over this
rank's shards, and ``init_from_local_shards``, which learns the other ranks' shards from them."""
from .... import distributed as dist
from ...._tensor import Size
from .metadata import ShardedTensorMetadata, TensorProperties

__all__ = ["ShardedTensor", "init_from_local_shards"]


class ShardedTensor:
    """A tensor of ``metadata().size`` whose shards are spread over the ranks of ``process_group``: this rank holds
    ``local_shards()``. It answers the distributed checkpoint's planner (each local shard written and read at its
    offsets)."""

    def __init__(self, local_shards, metadata, process_group=None):
        self._local_shards, self._metadata = list(local_shards), metadata
        self._process_group = process_group

    @classmethod
    def _init_from_local_shards_and_global_metadata(cls, local_shards, sharded_tensor_metadata, process_group=None,
                                                    init_rrefs=False):
        """A sharded tensor from this rank's shards and the metadata of all of them (no communication)."""
        return cls(local_shards, sharded_tensor_metadata, process_group)

    def local_shards(self):
        """This rank's shards."""
        return self._local_shards

    def local_tensor(self):
        """This rank's only shard's tensor."""
        if len(self._local_shards) != 1:
            raise NotImplementedError("Only single local shard is supported.")
        return self._local_shards[0].tensor

    def metadata(self):
        """Every rank's shards, the whole size and properties."""
        return self._metadata

    def size(self, dim=None):
        """The whole tensor's size (of dimension ``dim``)."""
        size = Size(self._metadata.size)
        return size if dim is None else size[dim]

    @property
    def shape(self):
        return self.size()

    @property
    def dtype(self):
        return self._metadata.tensor_properties.dtype

    @property
    def device(self):
        return self._local_shards[0].tensor.device if self._local_shards else None

    def dim(self):
        """The whole tensor's number of dimensions."""
        return len(self._metadata.size)

    def cpu(self):
        """The same shards with their tensors on the CPU."""
        from .shard import Shard
        shards = [Shard(shard.tensor.cpu(), shard.metadata) for shard in self._local_shards]
        return ShardedTensor(shards, self._metadata, self._process_group)

    def __repr__(self):
        return f"ShardedTensor({self._metadata})"

    # --- distributed checkpoints (the protocol torch.distributed.checkpoint's planners call) ------------------------
    def _chunks(self):
        from ...checkpoint.metadata import ChunkStorageMetadata
        return [ChunkStorageMetadata(offsets=Size(shard.metadata.shard_offsets),
                                     sizes=Size(shard.metadata.shard_sizes)) for shard in self._local_shards]

    def __create_write_items__(self, fqn, object):
        """One write per local shard, at its offsets in the whole tensor."""
        from ...checkpoint.metadata import MetadataIndex
        from ...checkpoint.planner import TensorWriteData, WriteItem, WriteItemType
        properties = self._metadata.tensor_properties
        return [WriteItem(index=MetadataIndex(fqn, chunk.offsets), type=WriteItemType.SHARD,
                          tensor_data=TensorWriteData(chunk=chunk, properties=properties, size=self.size()))
                for chunk in self._chunks()]

    def __create_chunk_list__(self):
        """The local shards as the chunks a load fills."""
        return self._chunks()

    def __get_tensor_shard__(self, index):
        """The local shard at ``index``'s offsets."""
        if index.offset is None:
            raise ValueError(f"Cannot lookup {index.fqn} since its a ShardedTensor and no offset was provided")
        for shard in self._local_shards:
            if list(shard.metadata.shard_offsets) == list(index.offset):
                return shard.tensor
        raise ValueError(f"Could not find shard at '{index.offset}' for FQN: '{index.fqn}'")


def init_from_local_shards(local_shards, *global_size, process_group=None, init_rrefs=False):
    """A sharded tensor of ``global_size`` from every rank's ``local_shards`` (their metadata all-gathered over
    ``process_group``, in rank order)."""
    if len(global_size) == 1 and isinstance(global_size[0], (list, tuple)):
        global_size = tuple(global_size[0])
    gathered = [None] * dist.get_world_size(process_group)
    mine = [shard.metadata for shard in local_shards], next((shard.tensor.dtype for shard in local_shards), None)
    dist.all_gather_object(gathered, mine, group=process_group)
    shards_metadata = [metadata for rank_shards, _ in gathered for metadata in rank_shards]
    dtype = next((dtype for _, dtype in gathered if dtype is not None), None)
    properties = TensorProperties(dtype=dtype) if dtype is not None else TensorProperties()
    return ShardedTensor(local_shards, ShardedTensorMetadata(shards_metadata, Size(global_size), properties),
                         process_group)
