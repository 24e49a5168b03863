"""``torch.distributed._shard.sharded_tensor.shard``: one rank's shard, its tensor beside its metadata."""
from dataclasses import dataclass

from ..metadata import ShardMetadata

__all__ = ["Shard"]


@dataclass
class Shard:
    """A local shard: ``tensor`` and the ``metadata`` saying where it lies in the whole."""

    tensor: object
    metadata: ShardMetadata

    def __post_init__(self):
        if list(self.tensor.size()) != list(self.metadata.shard_sizes):
            raise ValueError(f"Shard tensor size does not match with metadata.shard_lengths! Found shard tensor size: "
                             f"{list(self.tensor.size())}, metadata.shard_lengths: {self.metadata.shard_sizes}, ")

    @classmethod
    def from_tensor_and_offsets(cls, tensor, shard_offsets, rank):
        """The shard ``tensor`` at ``shard_offsets``, held by ``rank``."""
        return Shard(tensor, ShardMetadata(list(shard_offsets), list(tensor.size()), f"rank:{rank}/{tensor.device}"))
