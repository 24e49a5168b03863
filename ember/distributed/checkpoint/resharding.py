"""``torch.distributed.checkpoint.resharding``: where a saved chunk and a wanted chunk of a tensor overlap (the
reads that load a checkpoint saved in other pieces than the tensors it loads into)."""
__all__ = []


def _check_shard_metadata_pair_overlap(shard1, shard2):
    """Check if two shards overlap."""
    for i in range(len(shard1.offsets)):
        if shard1.offsets[i] >= shard2.offsets[i] + shard2.sizes[i]:
            return False
        if shard2.offsets[i] >= shard1.offsets[i] + shard1.sizes[i]:
            return False
    return True


def _shards_get_overlap_region_wrt_saved_tensor(saved_shard, current_shard):
    """Per dimension ``(dim, offset in the saved chunk, offset in the current chunk, length)`` of the overlap of
    two chunks that overlap."""
    narrows = []
    for dim, (saved_offset, current_offset, saved_size, current_size) in enumerate(
            zip(saved_shard.offsets, current_shard.offsets, saved_shard.sizes, current_shard.sizes)):
        length = min(saved_offset + saved_size, current_offset + current_size) - max(current_offset, saved_offset)
        if saved_offset > current_offset:
            narrows.append((dim, 0, saved_offset - current_offset, length))
        else:
            narrows.append((dim, current_offset - saved_offset, 0, length))
    return narrows
