"""``torch.distributed._state_dict_utils``: walking a state_dict to copy, offload or gather its tensors — what DCP's
staging and state_dict helpers use, and what training libraries import (torchtitan's checkpointer copies its staged
state_dicts with ``_copy_state_dict``). Gathering makes each DTensor whole; ember has no ShardedTensor."""
import copy
import io

from .._tensor import Tensor
from .checkpoint._nested_dict import unflatten_state_dict as _unflatten_state_dict  # noqa: F401 (torch's names)
from .checkpoint._traverse import set_element as _set_element  # noqa: F401

__all__ = []


class CompanionMismatch(Exception):
    pass


def _identity_func(obj, pg, device, companion_obj):
    return obj


def _refuse_sharded(value):
    if type(value).__name__ == "ShardedTensor":
        raise NotImplementedError("ember has no ShardedTensor (PyTorch's FSDP1 sharded state dicts hold them)")


def _iterate_state_dict(iter_object, sharded_tensor_func, dtensor_func, tensor_func, *, pg=None, device=None,
                        cpu_offload=False, companion_obj=None, ranks_only=(), type_check=True, non_blocking=True):
    """Applies ``tensor_func`` to each tensor of the nested ``iter_object`` (dicts, lists, tuples), copying each
    result into ``companion_obj``'s tensor at the same place when given; with ``ranks_only``, ranks outside it get
    empty dicts. Other values are kept (ints, floats, str, bytes, BytesIO, None) or, without ``type_check``,
    deep-copied; with it they raise."""
    def walk(value, companion):
        if isinstance(value, Tensor) and getattr(type(value), "_takes_over_calls", False):   # a DTensor
            ret = dtensor_func(value, pg, device, companion)
        elif isinstance(value, Tensor):
            _refuse_sharded(value)
            ret = tensor_func(value, pg, device, companion)
        elif isinstance(value, (int, float, str, bytes, io.BytesIO)) or value is None:
            ret = value
        elif isinstance(value, dict):
            if companion is not None and (not isinstance(companion, dict) or set(companion) != set(value)):
                raise CompanionMismatch("" if isinstance(companion, dict)
                                        else f"{set(companion.keys())=} {set(value.keys())=}")
            ret = {k: walk(v, companion[k] if companion is not None else None) for k, v in value.items()}
        elif isinstance(value, (list, tuple)):
            if companion is not None and (not isinstance(companion, (list, tuple)) or len(companion) != len(value)):
                raise CompanionMismatch
            ret = [walk(v, companion[i] if companion is not None else None) for i, v in enumerate(value)]
            if isinstance(value, tuple):
                ret = tuple(ret)
        elif not type_check:
            ret = copy.deepcopy(value)
        else:
            raise ValueError(f"Unexpected value type {type(value)}")
        if not ranks_only or _rank(pg) in ranks_only:
            if isinstance(ret, Tensor):
                if cpu_offload and companion is None:
                    ret = ret.to("cpu")
                if companion is not None:
                    companion.copy_(ret, non_blocking=non_blocking)
                    ret = companion
        else:
            ret = {} if isinstance(ret, dict) else None
        return ret

    return walk(iter_object, companion_obj)


def _rank(pg):
    from . import get_rank
    return get_rank(pg)


def _gather_state_dict(state_dict, *, pg=None, device=None, cpu_offload=False, ranks_only=(), type_check=True):
    """The state_dict with each DTensor gathered whole (every rank takes part), on the CPU with ``cpu_offload``;
    ranks outside ``ranks_only`` (when given) get empty dicts."""
    return _iterate_state_dict(state_dict, _identity_func, _full_dtensor, _identity_func, pg=pg, device=device,
                               cpu_offload=cpu_offload, ranks_only=ranks_only, type_check=type_check)


def _full_dtensor(obj, pg, device, companion_obj):
    return obj.full_tensor().detach()


def _offload_state_dict_to_cpu(state_dict, *, ranks_only=(), type_check=True):
    """The state_dict with every tensor moved to the CPU."""
    return _iterate_state_dict(state_dict, _identity_func, _identity_func, _identity_func, cpu_offload=True,
                               ranks_only=ranks_only, type_check=type_check)


def _copy_state_dict(state_dict, copy_state_dict, non_blocking=False, type_check=True):
    """Copies ``state_dict``'s tensors into ``copy_state_dict``'s (same keys and layout) and returns the copy."""
    from .. import no_grad
    with no_grad():
        return _iterate_state_dict(state_dict, _identity_func, _identity_func, _identity_func,
                                   companion_obj=copy_state_dict, type_check=type_check, non_blocking=non_blocking)


def _create_cpu_state_dict(state_dict, pin_memory=False, share_memory=False):
    """A state_dict of the same layout with an empty CPU tensor of each tensor's size and dtype (pinned or in shared
    memory when asked; pinning needs an accelerator, as in PyTorch); other values deep-copied."""
    from .. import empty, tensor, zeros_like

    def tensor_func(obj, pg, device, _):
        if len(obj.size()) == 0:
            return tensor(0, dtype=obj.dtype)
        if obj.numel() == 0:
            t = zeros_like(obj, device="cpu")
            return t.share_memory_() if share_memory else t
        t = empty(*tuple(obj.size()), dtype=obj.dtype)
        if share_memory:
            t = t.share_memory_()
        if pin_memory:
            t = t.pin_memory()
        return t

    return _iterate_state_dict(state_dict, _identity_func, _identity_func, tensor_func, type_check=False)


def _check_state_dict_similarity(state_dict, compared_state_dict):
    """Whether the two state_dicts have the same layout and their tensors the same dtypes and sizes."""
    def tensor_func(obj, pg, device, companion_obj):
        if companion_obj.dtype != obj.dtype or companion_obj.size() != obj.size():
            raise CompanionMismatch
        return obj

    try:
        _iterate_state_dict(state_dict, _identity_func, _identity_func, tensor_func,
                            companion_obj=compared_state_dict, type_check=False)
    except CompanionMismatch:
        return False
    return True


def _traverse_state_dict(state_dict, visitor):
    """Invoke ``visitor`` for each value recursively in ``state_dict`` (mappings, lists and tuples are walked)."""
    def walk(path, value):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(path + (str(k),), v)
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                walk(path + (i,), v)
        else:
            visitor(path, value)

    for key, value in state_dict.items():
        walk((str(key),), value)


def _flatten_state_dict(state_dict):
    """``(flat state_dict, mapping)``: every leaf, lists and tuples included, under its path joined by dots."""
    flattened, mappings = {}, {}

    def flat_copy(path, value):
        new_fqn = ".".join(map(str, path))
        if new_fqn in flattened:
            raise ValueError(f"duplicated flatten key {new_fqn}")
        flattened[new_fqn] = value
        mappings[new_fqn] = path

    _traverse_state_dict(state_dict, flat_copy)
    return flattened, mappings

