"""Optimizer state dicts of FSDP models (``FULL_STATE_DICT``): each rank's optimizer holds state for its shards
(of the flat parameters, or of the original parameters with ``use_orig_params``); ``full_optim_state_dict``
all-gathers them into whole tensors keyed by the original parameters' names, and
``full_optim_state_dict_to_load`` cuts such a dict back into this rank's shards keyed by parameter index.

A state with at least one dimension is sharded like its parameter; anything else (``step``, numbers) is the same
on every rank and copied. Every rank calls these together: the ranks first exchange which states they hold (a rank
whose shard of a parameter is empty holds none for it)."""
from ... import distributed as dist
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad

FSDP_PREFIX = "_fsdp_wrapped_module."
_CHECKPOINT_PREFIX = "_checkpoint_wrapped_module."


def _clean(name):
    name = name.replace(FSDP_PREFIX, "").replace(_CHECKPOINT_PREFIX, "")
    return "" if name == FSDP_PREFIX[:-1] else name.removesuffix("." + FSDP_PREFIX[:-1])


def _param_entries(model):
    """For each parameter an optimizer may hold (by id): ("flat", handle, fqns), ("orig", handle, info, fqn) or
    ("plain", fqn)."""
    from .fully_sharded_data_parallel import FullyShardedDataParallel
    entries = {}
    for name, unit in model.named_modules():
        if not isinstance(unit, FullyShardedDataParallel) or unit._handle is None:
            continue
        prefix, handle = _clean(name), unit._handle

        def full(fqn, prefix=prefix):
            return _clean(f"{prefix}.{fqn}" if prefix else fqn)
        if handle.use_orig_params:
            for info in handle.infos:
                entries[id(info.param)] = ("orig", handle, info, full(info.fqn))
        else:
            entries[id(handle.flat_param)] = ("flat", handle, [full(info.fqn) for info in handle.infos])
    for name, param in model.named_parameters():
        entries.setdefault(id(param), ("plain", _clean(name)))
    return entries


def _optimizer_params(optim):
    return [p for group in optim.param_groups for p in group["params"]]


def _names(entry):
    return entry[2] if entry[0] == "flat" else [entry[-1]]


def _order(value):
    return 0 if _is_sharded(value) else 1 if isinstance(value, Tensor) else 2


def _is_sharded(value):
    return isinstance(value, Tensor) and value.dim() > 0


def full_optim_state_dict(model, optim, optim_state_dict):
    """The whole optimizer state keyed by parameter names (see the module docstring)."""
    from ... import empty, zeros
    entries = _param_entries(model)
    params = _optimizer_params(optim)
    local = optim_state_dict["state"]
    described = {index: {key: ("shard", value.dtype) if _is_sharded(value) else ("value", value)
                         for key, value in local.get(index, {}).items()} for index in range(len(params))}
    everyone = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, described)
    states = {}
    with no_grad():
        for index, param in enumerate(params):
            entry = entries[id(param)]
            kinds = {}
            for rank_described in everyone:
                for key, kind in rank_described.get(index, {}).items():
                    kinds.setdefault(key, kind)
            if not kinds:
                continue
            if entry[0] == "plain":
                states[entry[1]] = {k: _copy(v) for k, v in local.get(index, _kinds_values(kinds)).items()}
                continue
            handle = entry[1]
            infos = handle.infos if entry[0] == "flat" else [entry[2]]
            per_param = [dict() for _ in infos]
            for key, (kind, value) in kinds.items():
                if kind == "value":
                    for state in per_param:
                        state[key] = _copy(local[index][key]) if key in local.get(index, {}) else _copy(value)
                    continue
                shard = zeros(handle.shard_numel, dtype=value, device=handle.flat_param.device)
                mine = local.get(index, {}).get(key)
                if mine is not None:
                    if entry[0] == "flat":
                        shard.copy_(mine.reshape(-1))
                    else:
                        start, end = handle.shard_range(entry[2])
                        shard[start - handle.shard_start:end - handle.shard_start] = mine.reshape(-1)
                if handle.sharded:
                    full = empty(handle.padded_numel, dtype=value, device=handle.flat_param.device)
                    dist.all_gather_single(full, shard, group=handle.group)
                else:
                    full = shard
                for info, state in zip(infos, per_param):
                    state[key] = full[info.offset:info.offset + info.numel].view(info.shape).clone()
            if entry[0] == "flat":   # PyTorch's order: tensors with dimensions, scalar tensors, other values
                per_param = [dict(sorted(state.items(), key=lambda item: (_order(item[1]), item[0])))
                             for state in per_param]
            for name, state in zip(_names(entry), per_param):
                states[name] = state
    groups = []
    for group in optim_state_dict["param_groups"]:
        names = [name for index in group["params"] for name in _names(entries[id(params[index])])]
        groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": names})
    order = [name for index in range(len(params)) for name in _names(entries[id(params[index])])]
    if any(entry[0] == "orig" for entry in entries.values()):
        order = sorted(order)
    return {"state": {name: states[name] for name in order if name in states}, "param_groups": groups}


def _kinds_values(kinds):
    return {key: value for key, (kind, value) in kinds.items()}


def _copy(value):
    return value.detach().clone() if isinstance(value, Tensor) else value


def full_optim_state_dict_to_load(model, optim, optim_state_dict):
    """This rank's ``optim.load_state_dict`` argument from a whole state dict keyed by names."""
    from ... import cat, zeros
    entries = _param_entries(model)
    params = _optimizer_params(optim)
    given = optim_state_dict["state"]
    state = {}
    with no_grad():
        for index, param in enumerate(params):
            entry = entries[id(param)]
            names = _names(entry)
            present = [given[name] for name in names if name in given]
            if not present:
                continue
            if entry[0] == "plain":
                state[index] = {k: _copy(v) for k, v in present[0].items()}
                continue
            handle, result = entry[1], {}
            for key, value in present[0].items():
                if not _is_sharded(value):
                    result[key] = _copy(value)
                    continue
                if entry[0] == "orig":
                    info = entry[2]
                    start, end = handle.shard_range(info)
                    if not handle.sharded:   # NO_SHARD: the whole state, in the parameter's shape
                        result[key] = value.detach().clone()
                    elif end > start:
                        result[key] = value.reshape(-1)[start - info.offset:end - info.offset].clone()
                    continue
                pieces, at = [], 0
                for info, name in zip(handle.infos, names):
                    if info.offset > at:
                        pieces.append(zeros(info.offset - at, dtype=value.dtype, device=value.device))
                    pieces.append(given[name][key].detach().reshape(-1).to(value.device, value.dtype))
                    at = info.offset + info.numel
                pieces.append(zeros(handle.padded_numel - at, dtype=value.dtype, device=value.device))
                full = cat(pieces)
                result[key] = full[handle.shard_start:handle.shard_start + handle.shard_numel].clone()
            if result and (entry[0] != "orig" or any(_is_sharded(v) for v in result.values())):
                state[index] = result
    groups, start = [], 0
    for group, own in zip(optim_state_dict["param_groups"], optim.param_groups):
        count = len(own["params"])
        groups.append({**{k: v for k, v in group.items() if k != "params"},
                       "params": list(range(start, start + count))})
        start += count
    return {"state": state, "param_groups": groups}
