"""``torch.distributed.checkpoint.planner_helpers``: the write items a value makes and the read items that fill a
tensor from a checkpoint's chunks (each saved chunk overlapping it gives one read of the overlap)."""
from ..._tensor import Size, Tensor
from .metadata import BytesStorageMetadata, ChunkStorageMetadata, MetadataIndex, TensorProperties
from .planner import LoadItemType, ReadItem, SavePlan, TensorWriteData, WriteItem, WriteItemType
from .resharding import _check_shard_metadata_pair_overlap, _shards_get_overlap_region_wrt_saved_tensor
from .utils import _refuse_sharded


def _create_chunk_from_tensor(tensor):
    return ChunkStorageMetadata(offsets=Size([0] * len(tensor.size())), sizes=tensor.size())


def _create_write_item_for_tensor(fqn, tensor):
    offsets = Size([0] * len(tensor.size()))
    return WriteItem(index=MetadataIndex(fqn, offsets), type=WriteItemType.TENSOR,
                     tensor_data=TensorWriteData(chunk=ChunkStorageMetadata(offsets=offsets, sizes=tensor.size()),
                                                 properties=TensorProperties.create_from_tensor(tensor),
                                                 size=tensor.size()))


def _create_write_item_for_bytesio(fqn, bytes):
    return WriteItem(index=MetadataIndex(fqn), type=WriteItemType.BYTE_IO)


def _create_write_items(fqn, object):
    if hasattr(object, "__create_write_items__"):
        return object.__create_write_items__(fqn, object)
    if isinstance(object, Tensor):
        _refuse_sharded(object)
        return [_create_write_item_for_tensor(fqn, object)]
    return [_create_write_item_for_bytesio(fqn, object)]


def _create_default_metadata_only_plan(state_dict):
    return SavePlan([_create_write_item_for_tensor(fqn, obj) if isinstance(obj, Tensor)
                     else _create_write_item_for_bytesio(fqn, obj) for fqn, obj in state_dict.items()])


def _create_chunk_list(tensor):
    if hasattr(tensor, "__create_chunk_list__"):
        return tensor.__create_chunk_list__()
    if isinstance(tensor, Tensor):
        _refuse_sharded(tensor)
        return [_create_chunk_from_tensor(tensor)]
    raise ValueError(f"Unsupported Type, expecting one of [Tensor, DTensor, ShardedTensor] ,but got {type(tensor)}")


def create_read_items_for_chunk_list(fqn, checkpoint_md, local_chunks):
    """One ReadItem per pair of a local chunk and a saved chunk that overlap (PyTorch sweeps sorted bounds; the
    pairs, and so the reads, are the same)."""
    read_items = []
    for local_idx, local_chunk in enumerate(local_chunks):
        for storage_idx, storage_chunk in enumerate(checkpoint_md.chunks):
            if not _check_shard_metadata_pair_overlap(local_chunk, storage_chunk):
                continue
            regions = _shards_get_overlap_region_wrt_saved_tensor(saved_shard=storage_chunk, current_shard=local_chunk)
            read_items.append(ReadItem(
                type=LoadItemType.TENSOR, dest_index=MetadataIndex(fqn, local_chunk.offsets, local_idx),
                dest_offsets=Size([r[2] for r in regions]),
                storage_index=MetadataIndex(fqn, storage_chunk.offsets, storage_idx),
                storage_offsets=Size([r[1] for r in regions]), lengths=Size([r[3] for r in regions])))
    return read_items


def _create_read_items(fqn, md, obj):
    if isinstance(md, BytesStorageMetadata):
        return [ReadItem(type=LoadItemType.BYTE_IO, dest_index=MetadataIndex(fqn), dest_offsets=Size((0,)),
                         storage_index=MetadataIndex(fqn), storage_offsets=Size((0,)), lengths=Size((0,)))]
    try:
        local_chunks = _create_chunk_list(obj)
    except ValueError as ex:
        raise ValueError(f"Invalid checkpoint metadata for {fqn}, "
                         f"expected BytesStorageMetadata but found {type(md)}") from ex
    return create_read_items_for_chunk_list(fqn, md, local_chunks)


def _init_state_dict(state_dict):
    """Gives each meta tensor of ``state_dict`` (nested) memory on the CPU to load into."""
    from ... import empty_like

    def visit(value):
        if isinstance(value, Tensor):
            return empty_like(value, device="cpu") if value.device.type == "meta" else value
        if isinstance(value, dict):
            for k in value:
                value[k] = visit(value[k])
        elif isinstance(value, list):
            for i, v in enumerate(value):
                value[i] = visit(v)
        return value

    visit(state_dict)
