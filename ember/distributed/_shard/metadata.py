"""``torch.distributed._shard.metadata``: where one shard of a sharded tensor lies."""
from dataclasses import dataclass

__all__ = ["ShardMetadata"]


@dataclass
class ShardMetadata:
    """One shard: its offsets and sizes in the whole tensor and its placement (``"rank:<r>/<device>"``)."""

    shard_offsets: list
    shard_sizes: list
    placement: str = None

    def __post_init__(self):
        if len(self.shard_offsets) != len(self.shard_sizes):
            raise ValueError(f"shard_offsets and shard_sizes should have the same number of elements, found "
                             f"{len(self.shard_offsets)} and {self.shard_sizes} respectively")
        if any(offset < 0 for offset in self.shard_offsets):
            raise ValueError("shard_offsets should be >=0")
        if any(size < 0 for size in self.shard_sizes):
            raise ValueError("shard_sizes should be >= 0")

    def rank(self):
        """The rank holding the shard, from its placement."""
        return int(str(self.placement).split("/")[0].split(":")[1])
