"""FSDP1's sharded and local state dicts: which form a unit's state dict takes, and its values converted between the
whole parameters (what ``summon``-style gathering gives) and the sharded forms, as PyTorch's ``_state_dict_utils``.

SHARDED_STATE_DICT holds each original parameter chunked along dimension 0 over the unit's ranks (``torch.chunk``'s
cuts): a DTensor when FSDP was given a DeviceMesh (PyTorch's ``_use_dtensor``), else a ShardedTensor. Loading
gathers the chunks back into whole parameters. LOCAL_STATE_DICT holds the unit's flat shard itself (its padding cut
off) as a one-dimensional ShardedTensor; loading pads this rank's shard back into the flat parameter."""
import math
import warnings

from ... import distributed as dist
from .api import ShardingStrategy, StateDictType

__all__ = ["state_dict_form", "sharded_value", "whole_value", "local_flat_shard", "flat_shard_to_load"]


def state_dict_form(module):
    """"full", "dtensor", "sharded" (ShardedTensors) or "local" for ``module``'s state-dict type, with PyTorch's
    switches: NO_SHARD gives full state dicts (warning), a DeviceMesh makes sharded ones DTensors and refuses local
    ones."""
    kind = module._state_dict_type
    if kind == StateDictType.FULL_STATE_DICT:
        return "full"
    if module.sharding_strategy == ShardingStrategy.NO_SHARD:
        warnings.warn("When using ``NO_SHARD`` for ``ShardingStrategy``, full_state_dict willbe returned.",
                      stacklevel=4)
        return "full"
    if module._device_mesh is not None:
        if kind == StateDictType.LOCAL_STATE_DICT:
            raise RuntimeError("Found state_dict_type LOCAL_STATE_DICT. DeviceMesh is not compatible with "
                               "LOCAL_STATE_DICT. Please set state_dict_type to SHARDED_STATE_DICT to get DTensor "
                               "state_dict.")
        module._state_dict_config._use_dtensor = True
    if kind == StateDictType.LOCAL_STATE_DICT:
        return "local"
    return "dtensor" if module._state_dict_config._use_dtensor else "sharded"


def _mesh(module):
    if module._device_mesh is None:
        from ..device_mesh import DeviceMesh
        device = module._handle.flat_param.device.type if module._handle is not None else "cpu"
        module._device_mesh = DeviceMesh.from_group(module.process_group, device)
    return module._device_mesh


def sharded_value(module, form, whole):
    """``whole`` (a gathered parameter) in ``form``: cloned, or this rank's chunk along dimension 0 as a DTensor or a
    ShardedTensor (on the CPU with the config's ``offload_to_cpu``)."""
    if form == "full":
        return whole.clone()
    offload = module._state_dict_config.offload_to_cpu
    if form == "dtensor":
        from ..tensor import DTensor, Replicate, Shard
        mesh = _mesh(module)
        replicate = [Replicate()] * mesh.ndim
        value = DTensor.from_local(whole.clone(), mesh, replicate, run_check=False).redistribute(
            mesh, replicate[:-1] + [Shard(0)])
        return value.cpu() if offload else value
    value = _chunked_sharded_tensor(whole, module.rank, module.world_size, module.process_group)
    return value.cpu() if offload else value


def _chunked_sharded_tensor(whole, rank, world_size, group):
    """PyTorch's ``_create_chunk_sharded_tensor``: ``whole`` cut as ``torch.chunk`` cuts dimension 0, this rank
    holding its chunk (none where chunk gives fewer pieces than ranks)."""
    from .._shard.sharded_tensor import Shard, ShardedTensor, ShardedTensorMetadata, ShardMetadata, TensorProperties
    chunks = whole.chunk(world_size, 0)
    step = math.ceil(whole.size(0) / world_size)
    local = [Shard.from_tensor_and_offsets(chunks[rank].clone(), [step * rank] + [0] * (whole.dim() - 1), rank)] \
        if rank < len(chunks) else []
    shards, start = [], 0
    for r, piece in enumerate(chunks):
        shards.append(ShardMetadata([start] + [0] * (whole.dim() - 1), list(piece.size()),
                                    f"rank:{r}/{whole.device.type}:0"))
        start += piece.size(0)
    metadata = ShardedTensorMetadata(shards, whole.size(), TensorProperties(dtype=whole.dtype))
    return ShardedTensor._init_from_local_shards_and_global_metadata(local, metadata, group)


def whole_value(module, form, value):
    """A sharded state-dict value (a DTensor or ShardedTensor) gathered whole on every rank of the unit."""
    from ..tensor import DTensor, Replicate
    if form == "dtensor":
        if not isinstance(value, DTensor):
            return value
        mesh = value.device_mesh
        return value.redistribute(mesh, [Replicate()] * mesh.ndim).to_local()
    from ... import empty, zeros
    from ...nn.functional import pad
    shards = value.local_shards()
    if len(shards) >= 2:
        raise AssertionError(f"Expects 0 or 1 shard per rank but got {len(shards)} shards on rank {module.rank}.")
    size = value.size()
    numel = math.prod(size)
    chunk = math.ceil(size[0] / module.world_size) * numel // size[0]
    if shards:
        local = shards[0].tensor.flatten()
        local = pad(local, [0, chunk - local.numel()]) if chunk > local.numel() else local
    else:
        local = zeros(chunk, dtype=value.dtype)
    gathered = empty(chunk * module.world_size, dtype=local.dtype, device=local.device)
    dist.all_gather_single(gathered, local.contiguous(), group=module.process_group)
    return gathered[:numel].reshape(size)


def local_flat_shard(handle):
    """The unit's flat shard without its padding, as a one-dimensional ShardedTensor of the unpadded flat parameter's
    length (a view of the shard: no copy)."""
    from .._shard.sharded_tensor import Shard, init_from_local_shards
    if handle.use_orig_params:
        raise NotImplementedError("ember's LOCAL_STATE_DICT takes FSDP units with use_orig_params=False")
    valid = max(0, min(handle.shard_numel, handle.unpadded_numel - handle.shard_start))
    flat = handle.flat_param.detach()
    shards = [Shard.from_tensor_and_offsets(flat[:valid], [handle.shard_numel * handle.rank], handle.rank)] \
        if valid else []
    value = init_from_local_shards(shards, handle.unpadded_numel, process_group=handle.group)
    return value.cpu() if handle.state._state_dict_config.offload_to_cpu else value


def flat_shard_to_load(handle, value):
    """What loads into the flat parameter from a LOCAL_STATE_DICT value: this rank's shard padded to the flat
    parameter's length."""
    from ...nn.functional import pad
    from .._shard.sharded_tensor import ShardedTensor
    if not isinstance(value, ShardedTensor):
        raise AssertionError("Tensors in local_state_dict should be ShardedTensor.")
    shards = value.local_shards()
    if not shards:
        return handle.flat_param.detach()
    tensor = shards[0].tensor
    missing = handle.flat_param.numel() - tensor.numel()
    return pad(tensor, [0, missing]) if missing > 0 else tensor
