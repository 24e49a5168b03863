"""``torch.distributed.checkpoint.state_dict``: a model's and its optimizers' state_dicts keyed by parameter names
(FQNs), whatever wraps the model, and loading them back.

A DistributedDataParallel wrapper's ``module.`` and ``torch.compile``'s ``_orig_mod.`` prefixes are dropped, so a
checkpoint of a wrapped model loads into a plain one and back. Optimizer state is keyed by each parameter's FQN
instead of its index (``{"state": {"0.weight": {...}}, "param_groups": [{..., "params": ["0.weight", ...]}]}``) and an
optimizer without state is first given it by a step with zero gradients and a learning rate of 0, as PyTorch does.
A FullyShardedDataParallel (FSDP1) model goes through ``FSDP.state_dict_type``, ``FSDP.optim_state_dict`` and
``FSDP.optim_state_dict_to_load`` with ``full_state_dict=True`` (its FULL state dicts, whole tensors under the
original names), or with the default options its SHARDED_STATE_DICT (ShardedTensors, or DTensors given a mesh).
A fully_shard (FSDP2) model's state dicts hold DTensors (its parameters and their optimizer states); with
``full_state_dict=True`` they are gathered whole, and whole tensors given to the setters are sharded as the model's."""
import contextlib
import gc
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from itertools import chain

from ... import nn, optim
from ..._tensor import Tensor

__all__ = ["FQNS_T", "PrimitiveType", "ValueType", "DictValueType", "ListDictValueType", "OptimizerStateType",
           "StateDictOptions", "get_model_state_dict", "get_optimizer_state_dict", "get_state_dict",
           "set_model_state_dict", "set_optimizer_state_dict", "set_state_dict"]

_CHECKPOINT_PREFIX = "_checkpoint_wrapped_module."
_FSDP_WRAPPED_MODULE, _FLAT_PARAM = "_fsdp_wrapped_module", "_flat_param"
_STATE, _PG, _PARAMS = "state", "param_groups", "params"
_EXTRA_STATE_KEY_SUFFIX = "_extra_state"

FQNS_T = set
PrimitiveType = object
ValueType = object
DictValueType = dict
ListDictValueType = list
OptimizerStateType = dict


@dataclass
class StateDictOptions:
    """How ``get_state_dict``/``set_state_dict`` and their model/optimizer forms behave.

    - ``full_state_dict``: gather sharded tensors whole (ember's tensors are whole already).
    - ``cpu_offload``: move all tensors to the CPU (with ``full_state_dict``, only rank 0 keeps any).
    - ``ignore_frozen_params``: leave out parameters with ``requires_grad=False``.
    - ``keep_submodule_prefixes`` (deprecated): with ``submodules``, keep their FQN prefixes.
    - ``strict``: the ``strict`` of the model's ``load_state_dict``.
    - ``broadcast_from_rank0``: only rank 0's given state_dict is used; it is broadcast to the others.
    - ``flatten_optimizer_state_dict``: the optimizer state as one flat dict (``state.<fqn>.<key>``,
      ``param_groups.<fqn>.<key>``).
    - ``dsd_fqn_modifiers``: the name of a module method giving FQN parts to leave out.
    """

    full_state_dict: bool = False
    cpu_offload: bool = False
    ignore_frozen_params: bool = False
    keep_submodule_prefixes: bool = True
    strict: bool = True
    broadcast_from_rank0: bool = False
    flatten_optimizer_state_dict: bool = False
    dsd_fqn_modifiers: str = "_fqn_modifiers"


@dataclass
class _StateDictInfo(StateDictOptions):
    fqn_param_mapping: dict = field(default_factory=dict)
    shared_params_mapping: dict = field(default_factory=dict)
    submodule_prefixes: set = field(default_factory=set)
    handle_model: bool = True
    handle_optim: bool = True
    fsdp_context: Callable = contextlib.nullcontext
    fsdp_modules: list = field(default_factory=list)


@contextlib.contextmanager
def _gc_context():
    is_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if is_enabled:
            gc.enable()


def _wrapper_kind(module):
    from ...compiler._module import OptimizedModule
    from ...nn.parallel.distributed import DistributedDataParallel
    from ..fsdp import FullyShardedDataParallel
    if isinstance(module, DistributedDataParallel):
        return "ddp"
    if isinstance(module, OptimizedModule):
        return "compiled"
    if isinstance(module, FullyShardedDataParallel):
        return "fsdp"
    return None


def _get_fqns(model, name, dsd_fqn_modifiers="_fqn_modifiers", skip_ddp_prefix=True, skip_compiler_prefix=True):
    """The FQNs of the parameter or buffer ``name`` (a key of ``model.state_dict()``), without the wrappers'
    ``module.`` and ``_orig_mod.`` parts."""
    name = name.replace(_CHECKPOINT_PREFIX, "")
    if "." not in name:
        return {name}
    obj_names = name.split(".")
    fqn_obj_names = []
    curr_obj = model
    for i, curr_obj_name in enumerate(obj_names):
        kind = _wrapper_kind(curr_obj)
        if kind == "ddp":
            if curr_obj_name != "module":
                raise AssertionError(f"Expected 'module', got '{curr_obj_name}'")
            curr_obj = curr_obj.module
            if not skip_ddp_prefix:
                fqn_obj_names.append(curr_obj_name)
        elif kind == "fsdp":   # an FSDP1 unit: a FlatParameter stands for several original parameters
            if i < len(obj_names) - 1 and obj_names[i + 1] == _FLAT_PARAM:
                prefix = ".".join(fqn_obj_names)
                prefix = f"{prefix}." if prefix else ""
                return {f"{prefix}{fqn}" for fqn in getattr(curr_obj, _FLAT_PARAM)._fqns}
            curr_obj = getattr(curr_obj, _FSDP_WRAPPED_MODULE)
            if curr_obj_name != _FSDP_WRAPPED_MODULE:
                fqn_obj_names.append(curr_obj_name)
                curr_obj = getattr(curr_obj, curr_obj_name)
        elif kind == "compiled":
            if curr_obj_name != "_orig_mod":
                raise AssertionError(f"Expected '_orig_mod', got '{curr_obj_name}'")
            curr_obj = curr_obj._orig_mod
            if not skip_compiler_prefix:
                fqn_obj_names.append(curr_obj_name)
        else:
            if hasattr(curr_obj, dsd_fqn_modifiers):
                removed_fqn = getattr(curr_obj, dsd_fqn_modifiers)().get(curr_obj_name)
                if removed_fqn and hasattr(curr_obj, removed_fqn):
                    curr_obj = getattr(curr_obj, removed_fqn)
            fqn_obj_names.append(curr_obj_name)
            if curr_obj_name == _EXTRA_STATE_KEY_SUFFIX:
                if i != len(obj_names) - 1:
                    raise RuntimeError("Expect `_extra_state` to be the last obj name")
            else:
                curr_obj = getattr(curr_obj, curr_obj_name)
    return {".".join(fqn_obj_names).replace(_CHECKPOINT_PREFIX, "")}


class _EXTRA_STATE:
    pass


def _iterate_valid_model_state(model, dsd_fqn_modifiers="_fqn_modifiers"):
    visited = set()

    def recurse(module, curr_fqn):
        visited.add(module)
        curr_fqn = f"{curr_fqn}." if curr_fqn else ""
        for name, submodule in module.named_children():
            if submodule in visited:
                continue
            if hasattr(module, dsd_fqn_modifiers) and name in getattr(module, dsd_fqn_modifiers)().values():
                new_fqn = curr_fqn[:-1]
            else:
                new_fqn = f"{curr_fqn}{name}"
            yield from recurse(submodule, new_fqn)
        for name, obj in chain(module.named_buffers(recurse=False), module.named_parameters(recurse=False)):
            if name in module._non_persistent_buffers_set:
                continue
            yield f"{curr_fqn}{name}", obj
        if getattr(type(module), "get_extra_state", nn.Module.get_extra_state) is not nn.Module.get_extra_state:
            yield f"{curr_fqn}{_EXTRA_STATE_KEY_SUFFIX}", _EXTRA_STATE()

    yield from recurse(model, "")


def _verify_options(model, optims, optim_only, *, submodules=None, options=None):
    """Checks the options and maps each parameter to its FQNs (and each FQN to its parameter)."""
    if submodules:
        warnings.warn("Getting submodules only model/optim state_dict is deprecated and will be removed in 2.5. This "
                      "feature can be achieved by manually filtering out the state_dict returned from "
                      "get_state_dict.", FutureWarning, stacklevel=3)
    if optim_only and not optims:
        raise RuntimeError("Optimizers are not passed in but optim_only is set to True.")
    options = options or StateDictOptions()
    fqn_param_mapping, shared_params_mapping = {}, {}
    for name, param in _iterate_valid_model_state(model):
        if isinstance(param, _EXTRA_STATE):
            continue
        fqns = _get_fqns(model, name)
        if param in fqn_param_mapping:
            fqn_param_mapping[param].update(fqns)
            shared_params_mapping[param] = fqn_param_mapping[param]
        else:
            fqn_param_mapping[param] = fqns.copy()
        for fqn in fqns:
            fqn_param_mapping[fqn] = param
    for param, fqns in list(shared_params_mapping.items()):
        for fqn in fqns:
            shared_params_mapping[fqn] = param
    submodule_prefixes = set()
    if submodules:
        submodules = set(submodules)
        for name, module in model.named_modules():
            if module in submodules:
                submodule_prefixes.update(f"{fqn}." for fqn in _get_fqns(model, name))
    if options.broadcast_from_rank0 and not options.full_state_dict:
        raise ValueError("full_state_dict must be True when broadcast_from_rank0 is True.")
    from ..fsdp import FullyShardedDataParallel
    fsdp_modules = FullyShardedDataParallel.fsdp_modules(model)
    return _StateDictInfo(**asdict(options), fqn_param_mapping=fqn_param_mapping,
                          shared_params_mapping=shared_params_mapping, submodule_prefixes=submodule_prefixes,
                          fsdp_context=_fsdp_context(model, options) if fsdp_modules else contextlib.nullcontext,
                          fsdp_modules=fsdp_modules, handle_model=not optim_only, handle_optim=len(optims) > 0)


def _fsdp_context(model, options):
    """The ``FSDP.state_dict_type`` context (its deprecation warning silenced) that PyTorch's options choose: FULL
    state dicts with ``full_state_dict`` (on rank 0 only with ``cpu_offload``), else SHARDED ones (DTensors or
    ShardedTensors, as the FSDP units give them)."""
    from ..fsdp import (FullOptimStateDictConfig, FullStateDictConfig, FullyShardedDataParallel,
                        ShardedOptimStateDictConfig, ShardedStateDictConfig, StateDictType)
    if options.full_state_dict:
        state_dict_type = StateDictType.FULL_STATE_DICT
        state_dict_config = FullStateDictConfig(offload_to_cpu=options.cpu_offload, rank0_only=options.cpu_offload)
        optim_state_dict_config = FullOptimStateDictConfig(
            offload_to_cpu=options.cpu_offload, rank0_only=options.cpu_offload or options.broadcast_from_rank0)
    else:
        state_dict_type = StateDictType.SHARDED_STATE_DICT
        state_dict_config = ShardedStateDictConfig(offload_to_cpu=options.cpu_offload)
        optim_state_dict_config = ShardedOptimStateDictConfig(offload_to_cpu=options.cpu_offload)

    @contextlib.contextmanager
    def without_warning():
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="FSDP.state_dict_type", category=FutureWarning)
            with FullyShardedDataParallel.state_dict_type(model, state_dict_type, state_dict_config,
                                                          optim_state_dict_config):
                yield
    return without_warning


def _fsdp_process_group(model, info):
    from ..fsdp import FullyShardedDataParallel
    return (model if isinstance(model, FullyShardedDataParallel) else info.fsdp_modules[0]).process_group


def _verify_state_dict(model_state_dict, optim_state_dict, info):
    from ... import distributed as dist
    if info.handle_model and not model_state_dict and not info.submodule_prefixes and not info.ignore_frozen_params \
            and not (info.cpu_offload and info.full_state_dict) and info.strict and not info.broadcast_from_rank0:
        raise RuntimeError("The option indicates that model state_dict is required to save or load, but model "
                           f"state_dict is empty.rank = {dist.get_rank()=}.")
    if info.handle_optim and not optim_state_dict and not (info.cpu_offload and info.full_state_dict) \
            and not info.broadcast_from_rank0:
        raise RuntimeError("The option indicates that model state_dict is required to save, or load but optim "
                           f"state_dict is empty. {optim_state_dict}")
    for key in model_state_dict:
        if _FLAT_PARAM in key:
            raise RuntimeError(f"{key} contains {_FLAT_PARAM}. This can happen if the model is not the root module.")


def _state_dict_fn(obj, api) -> Callable:
    return getattr(obj, api)


def _maybe_full_or_cpu_state_dict(state_dict, info):
    """ember's tensors are whole on every rank; ``cpu_offload`` moves them to the CPU, and with ``full_state_dict``
    only rank 0 keeps them (the other ranks get an empty dict), as PyTorch's gather to rank 0."""
    from ... import distributed as dist
    from .._state_dict_utils import _gather_state_dict, _offload_state_dict_to_cpu
    if info.full_state_dict:
        ranks_only = () if not info.cpu_offload or not dist.is_initialized() else (0,)
        return _gather_state_dict(state_dict, cpu_offload=info.cpu_offload, ranks_only=ranks_only)
    if info.cpu_offload:
        return _offload_state_dict_to_cpu(state_dict)
    return state_dict


def _get_model_state_dict(model, info):
    if not info.handle_model:
        return {}
    with info.fsdp_context():
        state_dict = _state_dict_fn(model, "state_dict")()
    for key in list(state_dict.keys()):
        fqns = _get_fqns(model, key)
        if len(fqns) != 1:
            raise AssertionError(f"Expected 1 FQN for key '{key}', got {len(fqns)}: {fqns}")
        fqn = next(iter(fqns))
        if fqn != key:
            state_dict[fqn] = state_dict.pop(key)
    if info.submodule_prefixes:
        new_state_dict = {}
        for fqn in state_dict:
            for prefix in info.submodule_prefixes:
                if fqn.startswith(prefix):
                    new_state_dict[fqn if info.keep_submodule_prefixes else fqn[len(prefix):]] = state_dict[fqn]
        state_dict = new_state_dict
    if info.ignore_frozen_params:
        for key, param in model.named_parameters():
            if not param.requires_grad:
                for fqn in _get_fqns(model, key):
                    state_dict.pop(fqn)
    return _maybe_full_or_cpu_state_dict(state_dict, info)


def _broadcast(value):
    from ... import distributed as dist
    if not dist.is_initialized():
        return value
    holder = [value if dist.get_rank() == 0 else None]
    dist.broadcast_object_list(holder, src=0)
    return holder[0]


def _load_model_state_dict(model, state_dict, info):
    from ... import no_grad
    from ...nn.modules.module import _IncompatibleKeys
    if not info.handle_model or (not state_dict and not info.broadcast_from_rank0):
        return _IncompatibleKeys([], [])
    if info.broadcast_from_rank0:
        state_dict = dict(_broadcast(state_dict))
    for key, _ in _iterate_valid_model_state(model, info.dsd_fqn_modifiers):
        fqns = _get_fqns(model, key, info.dsd_fqn_modifiers)
        fqns_with_prefix = _get_fqns(model, key, info.dsd_fqn_modifiers, skip_ddp_prefix=False,
                                     skip_compiler_prefix=False)
        for fqn, fqn_with_prefix in zip(fqns, fqns_with_prefix):
            if fqn != fqn_with_prefix:
                load_value = state_dict.pop(fqn, None)
                if load_value is None:
                    if info.strict:
                        raise RuntimeError(f"Missing key: {fqn}.")
                else:
                    state_dict[fqn_with_prefix] = load_value
    if info.full_state_dict and not info.fsdp_modules:   # fully_shard (FSDP2): whole tensors into DTensor shards
        state_dict = _distribute_like(state_dict, model.state_dict())
    with no_grad(), info.fsdp_context():
        return _state_dict_fn(model, "load_state_dict")(state_dict=state_dict, strict=info.strict)


def _states_by_key(model, optimizer):
    """``optimizer``'s per-parameter states under each key a state dict may give them: index and FQN."""
    params = list(chain.from_iterable(g[_PARAMS] for g in optimizer.param_groups))
    found = {i: optimizer.state[p] for i, p in enumerate(params) if p in optimizer.state}
    for name, param in model.named_parameters():
        if param in optimizer.state:
            found.update(dict.fromkeys(_get_fqns(model, name), optimizer.state[param]))
    return found


def _distribute_like(state_dict, local_state_dict):
    """``state_dict`` with each whole tensor where ``local_state_dict`` holds a DTensor laid out as that DTensor
    (each rank keeps its own shards of its copy), as PyTorch's ``_distribute_state_dict`` does for fully_shard."""
    from ..tensor import DTensor, distribute_tensor

    def visit(value, local):
        if isinstance(local, DTensor) and isinstance(value, Tensor) and not isinstance(value, DTensor):
            return distribute_tensor(value.detach().to(dtype=local.dtype), local.device_mesh, local.placements,
                                     src_data_rank=None)
        if isinstance(value, dict) and isinstance(local, dict):
            return {key: visit(item, local.get(key)) for key, item in value.items()}
        return value
    return visit(state_dict, local_state_dict)


def _init_optim_state(optim):
    """Initialize optim states by calling the step() with zero grads."""
    from ... import tensor, zeros_like
    if optim.state:
        return
    for param_group in optim.param_groups:
        for param in param_group[_PARAMS]:
            if param.grad is not None:
                return
    for param_group in optim.param_groups:
        for param in param_group[_PARAMS]:
            if param.requires_grad:
                param.grad = zeros_like(param)
    lrs = []
    for param_group in optim.param_groups:
        if "lr" in param_group:
            lrs.append(param_group["lr"])
            param_group["lr"] = tensor(0.0) if isinstance(param_group["lr"], Tensor) else 0.0
    optim.step(closure=None)
    for param_group in optim.param_groups:
        if "lr" in param_group:
            param_group["lr"] = lrs.pop(0)
    optim.zero_grad(set_to_none=True)


def _flatten_optim_state_dict(state_dict):
    """The optimizer state as one flat dict: ``state.<fqn>.<key>`` and, for each parameter,
    ``param_groups.<fqn>.<key>`` (so DCP can reshard it)."""
    def flatten_nested(nested, prefix):
        flattened = {}
        for key, value in nested.items():
            full_key = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                flattened.update(flatten_nested(value, full_key))
            else:
                if not isinstance(value, (Tensor, int, float, dict)):
                    raise NotImplementedError("Flattening optimizer state_dict only supports tensor, int, float, "
                                              f"dict states now. Type is {type(value)}.")
                flattened[full_key] = value
        return flattened

    ret = {}
    for fqn, state in state_dict[_STATE].items():
        ret.update(flatten_nested(state, f"{_STATE}.{fqn}"))
    for param_group in state_dict[_PG]:
        fqns = param_group.pop(_PARAMS)
        for fqn in fqns:
            for k, v in param_group.items():
                ret[f"{_PG}.{fqn}.{k}"] = v
    return ret


def _unflatten_optim_state_dict(optim, state_dict, info):
    """The FQN-keyed optimizer state_dict from its flat form (``_flatten_optim_state_dict``), laid out by ``optim``'s
    param_groups."""
    def reconstruct(flattened_key):
        prefix = f"{flattened_key}."
        nested = {}
        for key, value in state_dict.items():
            if not key.startswith(prefix):
                continue
            parts = key[len(prefix):].split(".")
            current = nested
            for part in parts[:-1]:
                current = current.setdefault(part, {})
            current[parts[-1]] = value
        return nested

    state, pg_state = {}, []
    for param_group in optim.param_groups:
        pg_state.append({_PARAMS: []})
        for param in param_group[_PARAMS]:
            for fqn in info.fqn_param_mapping[param]:
                if fqn in info.shared_params_mapping:
                    key = next((k for k in param_group if k != _PARAMS), None)
                    if key is None or f"{_PG}.{fqn}.{key}" not in state_dict:
                        continue
                pg_state[-1][_PARAMS].append(fqn)
                if not param.requires_grad:
                    continue
                state[fqn] = {}
                for state_name in optim.state[param]:
                    flat_key = f"{_STATE}.{fqn}.{state_name}"
                    state[fqn][state_name] = state_dict[flat_key] if flat_key in state_dict else reconstruct(flat_key)
        first_param_fqn = pg_state[-1][_PARAMS][0]
        for k in param_group:
            if k == _PARAMS:
                continue
            value = state_dict[f"{_PG}.{first_param_fqn}.{k}"]
            if k not in pg_state[-1]:
                pg_state[-1][k] = value
            elif pg_state[-1][k] != value:
                raise RuntimeError("All the parameters in the same parameter group should have the same saved "
                                   f"param_group value. But {first_param_fqn}.{k} is {value} while other(s) is "
                                   f"{pg_state[-1][k]}.")
    return {_STATE: state, _PG: pg_state}


def _get_optim_state_dict(model, optimizers, info):
    from ... import no_grad
    if not info.handle_optim:
        return {}
    optim_state_dict = {_STATE: {}, _PG: []}
    for optimizer in optimizers:
        with no_grad():
            _init_optim_state(optimizer)
        osd = _state_dict_fn(optimizer, "state_dict")()
        if info.fsdp_modules:
            osd = _fsdp_optim_state_dict(model, optimizer, osd, info)
            if not osd:
                continue
            optim_state_dict[_STATE].update(osd[_STATE])
            optim_state_dict[_PG].extend(osd[_PG])
            continue
        params = list(chain.from_iterable(g[_PARAMS] for g in optimizer.param_groups))
        param_pid_mapping = {id(p): i for i, p in enumerate(params)}
        fqn_pid_mapping = {}
        for key, param in model.named_parameters():
            fqns = _get_fqns(model, key)
            if len(fqns) != 1:
                raise AssertionError(f"Expected 1 FQN for key '{key}', got {len(fqns)}")
            fqn = next(iter(fqns))
            if id(param) not in param_pid_mapping:
                continue
            pid = param_pid_mapping[id(param)]
            fqn_pid_mapping[fqn] = pid
            fqn_pid_mapping[pid] = fqn
        for key in list(osd[_STATE].keys()):
            osd[_STATE][fqn_pid_mapping[key]] = osd[_STATE].pop(key)
        for group in osd[_PG]:
            group[_PARAMS] = [fqn_pid_mapping[pid] for pid in group[_PARAMS]]
        if not osd:
            continue
        optim_state_dict[_STATE].update(osd[_STATE])
        optim_state_dict[_PG].extend(osd[_PG])
    if info.flatten_optimizer_state_dict:
        optim_state_dict = _flatten_optim_state_dict(optim_state_dict)
    return _maybe_full_or_cpu_state_dict(optim_state_dict, info)


def _fsdp_optim_state_dict(model, optimizer, osd, info):
    """FSDP's optimizer state dict (keyed by the original parameters' names), without ``torch.compile``'s
    ``_orig_mod.`` parts, as PyTorch's string replacement."""
    from ..fsdp import FullyShardedDataParallel
    with info.fsdp_context():
        osd = FullyShardedDataParallel.optim_state_dict(model, optimizer, osd, group=_fsdp_process_group(model, info))
    if osd:
        osd[_STATE] = {k.replace("_orig_mod.", ""): v for k, v in osd[_STATE].items()}
        for group in osd[_PG]:
            group[_PARAMS] = [k.replace("_orig_mod.", "") for k in group[_PARAMS]]
    return osd


def _fsdp_optim_state_dict_to_load(model, optimizer, optim_state_dict, info):
    """This rank's ``optimizer.load_state_dict`` argument from an FQN-keyed optimizer state dict, through
    ``FSDP.optim_state_dict_to_load`` (the names given their ``_orig_mod.`` parts back first)."""
    from ..fsdp import FullyShardedDataParallel
    for original_fqn, _ in model.named_parameters():
        fqns = _get_fqns(model, original_fqn)
        fqns_with_compiler = _get_fqns(model, original_fqn, skip_compiler_prefix=False)
        if fqns == fqns_with_compiler:
            continue
        fqn, fqn_with_compiler = next(iter(fqns)), next(iter(fqns_with_compiler))
        for group in optim_state_dict[_PG]:
            group[_PARAMS] = [key.replace(fqn, fqn_with_compiler) for key in group[_PARAMS]]
        state = optim_state_dict[_STATE]
        for key in [k for k in state if fqn in k]:
            state[key.replace(fqn, fqn_with_compiler)] = state.pop(key)
    with info.fsdp_context():
        return FullyShardedDataParallel.optim_state_dict_to_load(model, optimizer, optim_state_dict,
                                                                 group=_fsdp_process_group(model, info))


def _split_optim_state_dict(model, optimizer, optim_state_dict, info):
    """The part of an FQN-keyed optimizer state_dict (possibly of several optimizers) that belongs to ``optimizer``,
    its param_groups in ``optimizer``'s order."""
    state, pg_state = {}, []
    return_osd = {_STATE: state, _PG: pg_state}
    pg_mapping = {}
    if all(isinstance(k, int) for k in optim_state_dict[_STATE]):
        return optim_state_dict
    for param_group in optimizer.param_groups:
        pg_state.append({_PARAMS: []})
        for param in param_group[_PARAMS]:
            for fqn in info.fqn_param_mapping[param]:
                if fqn in info.shared_params_mapping:
                    if not any(fqn in g[_PARAMS] for g in optim_state_dict[_PG]):
                        continue
                pg_state[-1][_PARAMS].append(fqn)
                if param.requires_grad:
                    if fqn in optim_state_dict[_STATE]:
                        state[fqn] = optim_state_dict[_STATE][fqn]
                    elif info.strict:
                        raise RuntimeError(f"Missing optimizer state for parameter '{fqn}' in checkpoint. The "
                                           "parameter requires gradients but has no saved optimizer state. To load "
                                           "anyway, use StateDictOptions(strict=False).")
                for loaded_param_group in optim_state_dict[_PG]:
                    if fqn in loaded_param_group[_PARAMS]:
                        pg_mapping[id(loaded_param_group)] = len(return_osd[_PG]) - 1
        if len(param_group[_PARAMS]) == 0:
            ret = [g for g in optim_state_dict[_PG] if len(g[_PARAMS]) == 0]
            if len(ret) != 1:
                raise ValueError("There are param groups that have zero parameters. In such a case, DSD only support "
                                 "exactly one param group with zero parameters.But the loaded state_dict has zero or "
                                 "more than one param groups that have zero parameters.")
            if len(optim_state_dict[_PG]) != len(optimizer.param_groups):
                raise ValueError("When there is a parameter group that has zero parameters, multiple optimizers are "
                                 "not supported.")
            pg_mapping[id(ret[0])] = len(return_osd[_PG]) - 1
    for param_group in optim_state_dict[_PG]:
        pg_idx = pg_mapping.get(id(param_group), -1)
        if pg_idx == -1:
            continue
        for key, value in param_group.items():
            if key != _PARAMS:
                pg_state[pg_idx][key] = value
    return return_osd


def _load_optim_state_dict(model, optimizers, state_dict, info):
    from ... import no_grad
    if not info.handle_optim:
        return
    if info.broadcast_from_rank0 and not info.fsdp_modules:   # (FSDP.optim_state_dict_to_load broadcasts)
        state_dict = _broadcast(state_dict)
    for optimizer in optimizers:
        with no_grad():
            _init_optim_state(optimizer)
        if state_dict:
            if _STATE in state_dict:
                optim_state_dict = _split_optim_state_dict(model, optimizer, state_dict, info)
            else:
                optim_state_dict = _unflatten_optim_state_dict(optimizer, state_dict, info)
        else:
            optim_state_dict = {}
        if info.fsdp_modules:
            optim_state_dict = _fsdp_optim_state_dict_to_load(model, optimizer, optim_state_dict, info)
        elif info.full_state_dict:   # fully_shard (FSDP2): whole states into the DTensor states' shards
            optim_state_dict = _distribute_like(optim_state_dict, {_STATE: _states_by_key(model, optimizer)})
        _state_dict_fn(optimizer, "load_state_dict")(state_dict=optim_state_dict)


def _optimizer_tuple(optimizers):
    return (optimizers,) if isinstance(optimizers, optim.Optimizer) else tuple(optimizers)


def get_model_state_dict(model, *, submodules=None, options=None):
    """Return the model state_dict of ``model``, keyed by FQNs (wrappers' prefixes left out)."""
    with _gc_context():
        info = _verify_options(model, (), optim_only=False, submodules=submodules, options=options)
        model_state_dict = _get_model_state_dict(model, info)
        _verify_state_dict(model_state_dict, {}, info)
        return model_state_dict


def get_optimizer_state_dict(model, optimizers, *, submodules=None, options=None):
    """Return the combined state_dict for optimizers, its state and params keyed by parameter FQNs."""
    with _gc_context():
        optimizers = _optimizer_tuple(optimizers)
        info = _verify_options(model, optimizers, optim_only=True, submodules=submodules, options=options)
        optim_state_dict = _get_optim_state_dict(model, optimizers, info)
        _verify_state_dict({}, optim_state_dict, info)
        return optim_state_dict


def get_state_dict(model, optimizers, *, submodules=None, options=None):
    """Return the model state_dict and optimizers state_dict (see ``get_model_state_dict`` and
    ``get_optimizer_state_dict``)."""
    with _gc_context():
        optimizers = _optimizer_tuple(optimizers)
        info = _verify_options(model, optimizers, optim_only=False, submodules=submodules, options=options)
        model_state_dict = _get_model_state_dict(model, info)
        optim_state_dict = _get_optim_state_dict(model, optimizers, info)
        _verify_state_dict(model_state_dict, optim_state_dict, info)
        return model_state_dict, optim_state_dict


def _unflatten_model_state_dict(model, state_dict):
    if not state_dict:
        return {}
    if isinstance(next(iter(state_dict.keys())), nn.Module):
        warnings.warn("Passing model_state_dict as a ``Dict[nn.Module, Dict[str, Any]]``is deprecated and will be "
                      "removed in 2.5. If you need this feature, please preprocess the model_state_dict to achieve "
                      "the same functionality.", FutureWarning, stacklevel=3)
        new_state_dict = {}
        for submodule, sub_state_dict in state_dict.items():
            for name, m in model.named_modules():
                if m is submodule:
                    prefix = f"{next(iter(_get_fqns(model, name)))}."
                    new_state_dict.update({prefix + subfqn: value for subfqn, value in sub_state_dict.items()})
        return new_state_dict
    return state_dict


def set_model_state_dict(model, model_state_dict, *, options=None):
    """Load the model state_dict (keyed by FQNs, as ``get_model_state_dict`` gives); returns the missing and
    unexpected keys as ``load_state_dict`` does."""
    model_state_dict = _unflatten_model_state_dict(model, model_state_dict)
    with _gc_context():
        info = _verify_options(model, (), optim_only=False, options=options)
        _verify_state_dict(model_state_dict, {}, info)
        return _load_model_state_dict(model, model_state_dict, info)


def set_optimizer_state_dict(model, optimizers, optim_state_dict, *, options=None):
    """Load the optimizers state_dict (keyed by FQNs, as ``get_optimizer_state_dict`` gives)."""
    with _gc_context():
        optimizers = _optimizer_tuple(optimizers)
        info = _verify_options(model, optimizers, optim_only=True, options=options)
        _verify_state_dict({}, optim_state_dict, info)
        _load_optim_state_dict(model, optimizers, optim_state_dict, info)


def set_state_dict(model, optimizers, *, model_state_dict, optim_state_dict, options=None):
    """Load the model state_dict and optimizers state_dict; returns the model's missing and unexpected keys."""
    model_state_dict = _unflatten_model_state_dict(model, model_state_dict)
    with _gc_context():
        optimizers = _optimizer_tuple(optimizers)
        info = _verify_options(model, optimizers, optim_only=not model_state_dict, options=options)
        _verify_state_dict(model_state_dict, optim_state_dict, info)
        _load_optim_state_dict(model, optimizers, optim_state_dict, info)
        return _load_model_state_dict(model, model_state_dict, info)
