"""FullyShardedDataParallel (PyTorch's flat-parameter FSDP): each FSDP unit keeps only this rank's shard of its
parameters, all-gathers them before its forward and reduce-scatters their gradients after backward, so the ranks
together train one model (DistributedDataParallel's math: gradients averaged over ranks) at a fraction of its memory
each.

An ``auto_wrap_policy`` wraps submodules in units of their own, bottom-up; the outermost FSDP is the root. The
unit's module is ``_fsdp_wrapped_module``; its parameters live in one ``FlatParameter`` (``_flat_param``, see
``_flat_param.py``), or, with ``use_orig_params``, stay registered as the original parameters viewing their part of
this rank's shard. ``state_dict`` gives whole tensors under the original names (``FULL_STATE_DICT``), and
``optim_state_dict`` the optimizer state the same way."""
import contextlib
import functools
import math
import warnings
from enum import Enum, auto

from ... import distributed as dist
from ..._tensor import Tensor
from ...autograd import engine
from ...autograd.grad_mode import no_grad
from ...nn.modules.module import Module
from ._flat_param import FlatParamHandle
from ._state_dict_utils import flat_shard_to_load, local_flat_shard, sharded_value, state_dict_form, whole_value
from .api import (BackwardPrefetch, CPUOffload, FullOptimStateDictConfig, FullStateDictConfig,  # noqa: F401
                  LocalOptimStateDictConfig, LocalStateDictConfig, MixedPrecision, OptimStateDictConfig,
                  ShardedOptimStateDictConfig, ShardedStateDictConfig, ShardingStrategy, StateDictConfig,
                  StateDictSettings, StateDictType)   # (programs import these from here, as from torch's module)
from .wrap import _or_policy, _Policy, _recursive_wrap, _validate_frozen_params, _wrap_module_cls_individually

__all__ = ["FullyShardedDataParallel", "OptimStateKeyType"]

FSDP_WRAPPED_MODULE = "_fsdp_wrapped_module"
FSDP_PREFIX = FSDP_WRAPPED_MODULE + "."
FLAT_PARAM = "_flat_param"


class OptimStateKeyType(Enum):
    """How an optimizer state dict keys its parameters: by name or by index."""

    PARAM_NAME = auto()
    PARAM_ID = auto()


_HYBRID = (ShardingStrategy.HYBRID_SHARD, ShardingStrategy._HYBRID_SHARD_ZERO2)
_FREE_AFTER_FORWARD = (ShardingStrategy.FULL_SHARD, ShardingStrategy.HYBRID_SHARD)


def _hybrid_groups(process_group, device_mesh):
    """The (intra-node, inter-node) process groups of a hybrid strategy: sharded within the first, replicated across
    the second; from a 2-D DeviceMesh (dimension 1 within, 0 across), a pair of groups, or (None) as PyTorch makes
    them: nodes of as many consecutive ranks as the machine has devices (on CPU, one)."""
    if device_mesh is not None:
        if device_mesh.ndim != 2:
            raise ValueError(f"Expected device_mesh to have ndim=2 but got {device_mesh.ndim}")
        return device_mesh.get_group(mesh_dim=1), device_mesh.get_group(mesh_dim=0)
    if process_group is None:
        from ... import cuda
        return _intra_and_inter_node_groups(cuda.device_count() if cuda.is_available() else 1)
    if not (isinstance(process_group, tuple) and len(process_group) == 2 and
            all(isinstance(g, dist.ProcessGroup) for g in process_group)):
        raise ValueError("Expected process_group to be passed in as either None or Tuple[dist.ProcessGroup, "
                         f"dist.ProcessGroup] but got {type(process_group)}")
    return process_group


def _intra_and_inter_node_groups(per_node):
    """Groups of ``per_node`` consecutive ranks, and across them the ranks with the same place in their node (every
    rank makes every group, as ``new_group`` requires)."""
    rank, world = dist.get_rank(), dist.get_world_size()
    intra = inter = None
    for start in range(0, world, per_node):
        group = dist.new_group(list(range(start, start + per_node)))
        if start <= rank < start + per_node:
            intra = group
    for local in range(per_node):
        group = dist.new_group(list(range(local, world, per_node)))
        if rank % per_node == local:
            inter = group
    return intra, inter


def _gradient_predivide_factor(world_size):
    """PyTorch's split of the 1/world_size averaging: the largest power of two ``f`` with ``world_size / f > f``
    divides before the reduction, the rest after (keeping half-precision sums in range)."""
    factor = 1
    while world_size % factor == 0 and world_size / factor > factor:
        factor *= 2
    return float(factor)


class FullyShardedDataParallel(Module):
    """Shards ``module``'s parameters across the ranks of ``process_group``: call it like the module; backward
    leaves each rank the averaged gradient of its shard, for an optimizer built on ``parameters()``."""

    def __init__(self, module, process_group=None, sharding_strategy=None, cpu_offload=None, auto_wrap_policy=None,
                 backward_prefetch=BackwardPrefetch.BACKWARD_PRE, mixed_precision=None, ignored_modules=None,
                 param_init_fn=None, device_id=None, sync_module_states=False, forward_prefetch=False,
                 limit_all_gathers=True, use_orig_params=False, ignored_states=None, device_mesh=None):
        super().__init__()
        if process_group is not None and device_mesh is not None:
            raise ValueError("Cannot pass both process_group and device_mesh at the same time. Please just pass only "
                             "one of them.")
        strategy = sharding_strategy or ShardingStrategy.FULL_SHARD
        inter_node_group = None
        if strategy in _HYBRID:
            if process_group is None and auto_wrap_policy is None and device_mesh is None:
                raise ValueError(f"Manual wrapping with {strategy} requires explicit specification of process group "
                                 "or device_mesh.")
            group, inter_node_group = _hybrid_groups(process_group, device_mesh)
            if device_mesh is None:   # (children share the groups: PyTorch's invariant)
                process_group = (group, inter_node_group)
        else:
            group = process_group if process_group is not None else dist.group.WORLD
            if device_mesh is not None:
                group = device_mesh.get_group(mesh_dim=0)
            if group is None:
                raise ValueError("Default process group has not been initialized, please make sure to call "
                                 "init_process_group.")
            if isinstance(group, tuple):
                raise ValueError(f"A tuple of process groups (intra-node, inter-node) is for HYBRID_SHARD and "
                                 f"_HYBRID_SHARD_ZERO2, not {strategy}")
        _check_device(module, device_id)
        if ignored_modules is not None and ignored_states is not None:
            raise ValueError("Cannot pass both ignored_modules and ignored_states at the same time. Please just pass "
                             "ignored_states.")
        ignored = list(ignored_states if ignored_states is not None else ignored_modules or ())
        ignored_modules_set = {m for m in ignored if isinstance(m, Module)}
        ignored_params = {id(p) for m in ignored_modules_set for p in m.parameters()}
        ignored_params |= {id(p) for p in ignored if not isinstance(p, Module)}
        if isinstance(auto_wrap_policy, _Policy):
            _validate_frozen_params(module, auto_wrap_policy, ignored_modules_set, _IdSet(ignored_params),
                                    use_orig_params)
        if auto_wrap_policy is not None:
            kwargs = dict(process_group=process_group, device_mesh=device_mesh, sharding_strategy=sharding_strategy,
                          cpu_offload=cpu_offload, backward_prefetch=backward_prefetch, mixed_precision=mixed_precision,
                          param_init_fn=param_init_fn, device_id=device_id, sync_module_states=sync_module_states,
                          forward_prefetch=forward_prefetch, limit_all_gathers=limit_all_gathers,
                          use_orig_params=use_orig_params, ignored_states=ignored_states or ignored_modules)
            policy = auto_wrap_policy
            if mixed_precision is not None:   # e.g. BatchNorm: units of their own, in full precision
                classes = tuple(set(mixed_precision._module_classes_to_ignore))
                _override_module_mixed_precision(module, classes)
                policy = functools.partial(_or_policy, policies=[auto_wrap_policy, functools.partial(
                    _wrap_module_cls_individually, module_classes=classes)])
            _recursive_wrap(module, policy, type(self), ignored_modules_set, _IdSet(ignored_params),
                            only_wrap_children=True, **kwargs)
        self.process_group, self._inter_node_pg, self._device_mesh = group, inter_node_group, device_mesh
        self.rank, self.world_size = group.rank(), group.size()
        if self.world_size == 1 and strategy != ShardingStrategy.NO_SHARD:
            warnings.warn(f"FSDP is switching to use `NO_SHARD` instead of {strategy} since the world size is 1.",
                          stacklevel=2)
            strategy = ShardingStrategy.NO_SHARD
        elif strategy == ShardingStrategy.NO_SHARD:
            warnings.warn("The `NO_SHARD` sharding strategy is deprecated. If having issues, please use "
                          "`DistributedDataParallel` instead.", FutureWarning, stacklevel=2)
        self.sharding_strategy = strategy
        self._sharded = strategy != ShardingStrategy.NO_SHARD
        self.cpu_offload = cpu_offload or CPUOffload()
        self.backward_prefetch, self.forward_prefetch = backward_prefetch, forward_prefetch
        self.limit_all_gathers = limit_all_gathers
        self._mixed_precision = mixed_precision
        self.mixed_precision = mixed_precision
        self._reduce_dtype = (mixed_precision.reduce_dtype or mixed_precision.param_dtype) if mixed_precision \
            else None
        self._use_orig_params = use_orig_params
        data_parallel_size = self.world_size * (inter_node_group.size() if inter_node_group is not None else 1)
        self._gradient_predivide_factor = _gradient_predivide_factor(data_parallel_size)
        self._gradient_postdivide_factor = data_parallel_size / self._gradient_predivide_factor
        self._sync_gradients = True
        self._is_root = None
        self._buffer_dtypes = {}
        self._in_summon = False
        self._state_dict_type = StateDictType.FULL_STATE_DICT
        self._state_dict_config = FullStateDictConfig()
        self._optim_state_dict_config = FullOptimStateDictConfig()
        self._fsdp_wrapped_module = module
        _materialize(module, params_of=lambda: [p for p in module.parameters() if id(p) not in ignored_params and
                                                not getattr(p, "_fsdp_flattened", False)],
                     ignored_modules=ignored_modules_set, param_init_fn=param_init_fn, device_id=device_id)
        params = [p for p in module.parameters() if id(p) not in ignored_params and
                  not getattr(p, "_fsdp_flattened", False)]
        target = _device_from_id(device_id)
        if target is not None and target.type != "cpu" and any(p.device != target for p in params):
            module.to(target)   # as PyTorch's: a CPU module given a GPU device_id moves there before sharding
        if sync_module_states:
            owned = [*params, *(b for b in _unit_buffers(module))]
            if any(t.device.type == "cpu" for t in owned):   # PyTorch broadcasts module states on GPUs only
                raise ValueError("The module has CPU parameters or buffers when `sync_module_states=True`, which "
                                 "requires them to be on GPU. Please specify the `device_id` argument or move the "
                                 "module to GPU before passing it to FSDP.")
            with no_grad():
                for tensor in owned:
                    dist.broadcast(tensor.detach(), 0, group=group)
        self._handle = FlatParamHandle(params, module, self) if params else None
        self.register_state_dict_pre_hook(_pre_state_dict_hook)
        self._register_state_dict_hook(_post_state_dict_hook)
        self._register_load_state_dict_pre_hook(_pre_load_state_dict_hook, with_module=True)
        self.register_load_state_dict_post_hook(_post_load_state_dict_hook)

    # --- the wrapped module -------------------------------------------------------------------------------
    @property
    def module(self):
        """The wrapped module."""
        return self._fsdp_wrapped_module

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == "_fsdp_wrapped_module":   # not set yet (during __init__, or unpickling)
                raise
            return getattr(self._fsdp_wrapped_module, name)

    def __getitem__(self, key):
        return self._fsdp_wrapped_module.__getitem__(key)

    def check_is_root(self):
        """Whether this instance is the root (outermost) FSDP unit."""
        self._lazy_init()
        return self._is_root

    @staticmethod
    def fsdp_modules(module, root_only=False):
        """The FSDP units in ``module``'s tree (only the roots with ``root_only``)."""
        units = [m for m in module.modules() if isinstance(m, FullyShardedDataParallel)]
        if root_only:
            units = [m for m in units if m.check_is_root()]
        return units

    def _lazy_init(self):
        """Marks the root: the first FSDP instance used that is not inside another; casts buffers for mixed
        precision."""
        if self._is_root is not None:
            return
        self._is_root = True
        for module in self.modules():
            if module is not self and isinstance(module, FullyShardedDataParallel):
                module._is_root = False
        self._buffer_dtypes = {}   # (id(module), name) -> the dtype a buffer had before mixed precision cast it
        precision = self._mixed_precision
        if precision is not None and precision.buffer_dtype is not None:
            for module in self.modules():
                for name, buffer in module._buffers.items():
                    if buffer is not None and buffer.is_floating_point():
                        self._buffer_dtypes[id(module), name] = buffer.dtype
                        module._buffers[name] = buffer.to(precision.buffer_dtype)

    # --- forward ------------------------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        self._lazy_init()
        precision = self._mixed_precision
        if precision is not None and precision.param_dtype is not None and \
                (precision.cast_root_forward_inputs if self._is_root else precision.cast_forward_inputs):
            args, kwargs = _cast_floats((args, kwargs), precision.param_dtype)
        handle = self._handle
        if handle is None:
            return self._fsdp_wrapped_module(*args, **kwargs)
        # activation checkpointing's recomputation in backward records the forward's ops again (ember's gathering
        # is one) and keeps what it gathered for the checkpointed backward
        recomputing = handle.in_backward and engine.current_task() is not None
        handle.in_backward = recomputing   # (a backward that raised may have left it set)
        views = handle.pre_forward()
        try:
            output = self._fsdp_wrapped_module(*args, **kwargs)
        finally:   # PyTorch keeps the root's whole parameters for backward; FULL_SHARD frees the others'
            free = self.sharding_strategy in _FREE_AFTER_FORWARD and not self._is_root and not recomputing
            handle.post_forward(free, views)
        if views and views[0].requires_grad:
            _register_pre_backward_hooks(output, lambda grad: handle.pre_backward(views))
        return output

    def _units(self):
        return [m for m in self.modules() if isinstance(m, FullyShardedDataParallel)]

    @contextlib.contextmanager
    def no_sync(self):
        """Within it, backward accumulates unsharded gradients locally; the first backward after it reduces them
        (with that backward's own) across ranks."""
        self._lazy_init()
        if not self._is_root:
            raise RuntimeError("`no_sync()` on inner FSDP instances is not supported. Please call `no_sync()` on "
                               "root FSDP module.")
        units = self._units()
        previous = [unit._sync_gradients for unit in units]
        for unit in units:
            unit._sync_gradients = False
        try:
            yield
        finally:
            for unit, value in zip(units, previous):
                unit._sync_gradients = value

    # --- gradients ----------------------------------------------------------------------------------------
    def clip_grad_norm_(self, max_norm, norm_type=2.0):
        """Scales every gradient so that the norm of all of them together (over every rank's shards) is at most
        ``max_norm``; returns that total norm."""
        from ... import clamp, float32, linalg, promote_types, stack, tensor
        self._lazy_init()
        if not self._is_root:
            raise RuntimeError("`clip_grad_norm_()` should only be called on the root FSDP instance")
        max_norm, norm_type = float(max_norm), float(norm_type)
        sharded, nonsharded, grads, seen = [], [], [], set()
        for unit in self._units():
            handle = unit._handle
            if handle is None:
                continue
            target = sharded if handle.sharded else nonsharded
            params = [info.param for info in handle.infos] if handle.use_orig_params else [handle.flat_param]
            for param in params:
                seen.add(id(param))
                target.append(param)
                if param.grad is not None:
                    grads.append(param.grad)
        for param in self.parameters():
            if id(param) not in seen:
                seen.add(id(param))
                nonsharded.append(param)
                if param.grad is not None:
                    grads.append(param.grad)

        def norm(params):
            present = [p.grad for p in params if p.grad is not None]
            if not present:
                return tensor(0.0)
            return linalg.vector_norm(stack([linalg.vector_norm(g.detach(), norm_type, dtype=float32)
                                             for g in present]), norm_type, dtype=float32)
        local_sharded = norm(sharded)
        local_nonsharded = norm(nonsharded) if nonsharded else None
        if norm_type == math.inf:
            total = local_sharded if local_nonsharded is None else local_sharded.maximum(local_nonsharded)
            dist.all_reduce(total, op=dist.ReduceOp.MAX, group=self.process_group)
        else:
            total = local_sharded ** norm_type
            dist.all_reduce(total, group=self.process_group)
            if local_nonsharded is not None:
                total += local_nonsharded ** norm_type
            total = total ** (1.0 / norm_type)
        clip_coef = clamp(max_norm / (total + 1e-6), max=1.0)
        with no_grad():
            for grad in grads:
                grad.mul_(clip_coef.to(grad.dtype))
        if not grads:
            warnings.warn(f"Called FSDP.clip_grad_norm_() on rank {self.rank} with no gradients -- returning the "
                          "total norm in the default dtype " f"{total.dtype}")
            return total
        dtype = grads[0].dtype
        for grad in grads[1:]:
            dtype = promote_types(dtype, grad.dtype)
        return total.to(dtype)

    # --- names --------------------------------------------------------------------------------------------
    def named_parameters(self, *args, **kwargs):
        """``Module.named_parameters``; inside ``summon_full_params`` the names lose their ``_fsdp_wrapped_module.``
        parts, as the original module's."""
        clean = self._in_summon
        for name, param in super().named_parameters(*args, **kwargs):
            yield (name.replace(FSDP_PREFIX, "") if clean else name), param

    def named_buffers(self, *args, **kwargs):
        """``Module.named_buffers``, names cleaned inside ``summon_full_params`` as ``named_parameters``'."""
        clean = self._in_summon
        for name, buffer in super().named_buffers(*args, **kwargs):
            yield (name.replace(FSDP_PREFIX, "") if clean else name), buffer

    # --- whole parameters ---------------------------------------------------------------------------------
    @staticmethod
    @contextlib.contextmanager
    def summon_full_params(module, recurse=True, writeback=True, rank0_only=False, offload_to_cpu=False,
                           with_grads=False):
        """Within it, the FSDP units' original parameters are whole (all-gathered) and registered under their
        names; with ``writeback``, changes made to them are kept (each rank keeps its shard of them)."""
        units = FullyShardedDataParallel.fsdp_modules(module) if recurse else \
            [module] if isinstance(module, FullyShardedDataParallel) else []
        for unit in units:   # PyTorch's checks, in its order
            if with_grads and (offload_to_cpu or not unit._use_orig_params):
                raise NotImplementedError(f"with_grads={with_grads}, use_orig_params={unit._use_orig_params}, "
                                          f"offload_to_cpu={offload_to_cpu} is not supported yet")
            if offload_to_cpu and unit._handle is not None and not unit._handle.sharded:
                raise NotImplementedError("offload_to_cpu=True and NO_SHARD is not supported yet")
            if writeback and rank0_only:
                raise NotImplementedError("writeback=True and rank0_only=True is not supported yet")
            if offload_to_cpu and not rank0_only:
                warnings.warn("offload_to_cpu=True and rank0_only=False may result in theunsharded parameters being "
                              "redundantly copied to CPU memory for GPUs sharing the same CPU memory, which risks CPU "
                              "OOM. We recommend using offload_to_cpu=True with rank0_only=True.", stacklevel=2)
        for unit in units:
            unit._lazy_init()
        with _summoned(units, writeback, rank0_only, with_grads):
            yield

    def apply(self, fn):
        """``Module.apply`` with this unit's parameters whole (summoned, written back), so ``fn`` may initialize
        them."""
        with _summoned([self], writeback=True, rank0_only=False, with_grads=False):
            return super().apply(fn)

    # --- state dicts --------------------------------------------------------------------------------------
    @staticmethod
    def set_state_dict_type(module, state_dict_type, state_dict_config=None, optim_state_dict_config=None):
        """Sets the state-dict type (and configs) of every FSDP unit in ``module``; returns the previous
        settings."""
        warnings.warn("FSDP.state_dict_type() and FSDP.set_state_dict_type() are being deprecated. Please use APIs, "
                      "get_state_dict() and set_state_dict(), which can support different parallelisms, FSDP1, FSDP2, "
                      "DDP. API doc: https://pytorch.org/docs/stable/distributed.checkpoint.html"
                      "#torch.distributed.checkpoint.state_dict.get_state_dict .Tutorial: "
                      "https://pytorch.org/tutorials/recipes/distributed_checkpoint_recipe.html .", FutureWarning,
                      stacklevel=2)
        units = FullyShardedDataParallel.fsdp_modules(module)
        if not units:
            raise AssertionError("No FSDP modules in the given module tree")
        previous = FullyShardedDataParallel.get_state_dict_type(module)
        configs = {StateDictType.FULL_STATE_DICT: (FullStateDictConfig, FullOptimStateDictConfig),
                   StateDictType.LOCAL_STATE_DICT: (LocalStateDictConfig, None),
                   StateDictType.SHARDED_STATE_DICT: (ShardedStateDictConfig, None)}
        config_type, optim_config_type = configs[state_dict_type]
        if state_dict_config is None:
            state_dict_config = config_type()
        if optim_state_dict_config is None:
            optim_config_type = optim_config_type or {
                StateDictType.LOCAL_STATE_DICT: LocalOptimStateDictConfig,
                StateDictType.SHARDED_STATE_DICT: ShardedOptimStateDictConfig}[state_dict_type]
            optim_state_dict_config = optim_config_type()
        if type(state_dict_config) is not config_type and not isinstance(state_dict_config, config_type):
            raise RuntimeError(f"Expected state_dict_config of type {config_type} but got "
                               f"{type(state_dict_config)}")
        for unit in units:
            unit._state_dict_type = state_dict_type
            unit._state_dict_config = state_dict_config
            unit._optim_state_dict_config = optim_state_dict_config
        return previous

    @staticmethod
    def get_state_dict_type(module):
        """The state-dict settings shared by the FSDP units in ``module``."""
        settings = None
        for unit in FullyShardedDataParallel.fsdp_modules(module):
            mine = StateDictSettings(unit._state_dict_type, unit._state_dict_config, unit._optim_state_dict_config)
            if settings is None:
                settings = mine
            elif settings != mine:
                raise AssertionError("All FSDP modules must have the same state dict settings.")
        if settings is None:
            raise AssertionError("No FSDP modules in the given module tree")
        return settings

    @staticmethod
    @contextlib.contextmanager
    def state_dict_type(module, state_dict_type, state_dict_config=None, optim_state_dict_config=None):
        """Within it, ``state_dict``/``load_state_dict`` and ``optim_state_dict`` use ``state_dict_type``."""
        previous = FullyShardedDataParallel.set_state_dict_type(module, state_dict_type, state_dict_config,
                                                                optim_state_dict_config)
        try:
            yield
        finally:
            FullyShardedDataParallel.set_state_dict_type(module, previous.state_dict_type,
                                                         previous.state_dict_config,
                                                         previous.optim_state_dict_config)

    @staticmethod
    def optim_state_dict(model, optim, optim_state_dict=None, group=None):
        """``optim``'s state dict keyed by the original parameters' names, each state whole (all-gathered);
        collective: every rank calls it."""
        from ._optim_utils import full_optim_state_dict
        settings = FullyShardedDataParallel.get_state_dict_type(model)
        form = _optim_form(model, settings)
        if optim_state_dict is None:
            optim_state_dict = optim.state_dict()
        result = full_optim_state_dict(model, optim, optim_state_dict)
        if form != "full":   # as PyTorch: the whole states, chunked as the parameters are
            unit = FullyShardedDataParallel.fsdp_modules(model)[0]
            for states in result["state"].values():
                for key, value in states.items():
                    if isinstance(value, Tensor) and value.dim() > 0:
                        states[key] = sharded_value(unit, form, value)
            return result
        rank0_only = getattr(settings.optim_state_dict_config, "rank0_only", False)
        if rank0_only and dist.get_rank(group) != 0:
            return {}
        return result

    @staticmethod
    def optim_state_dict_to_load(model, optim, optim_state_dict, is_named_optimizer=False, load_directly=False,
                                 group=None):
        """Turns a state dict from ``optim_state_dict`` into this rank's ``optim.load_state_dict`` argument (its
        shards, keyed by parameter index); with ``load_directly`` loads it too."""
        from ._optim_utils import full_optim_state_dict_to_load
        settings = FullyShardedDataParallel.get_state_dict_type(model)
        form = _optim_form(model, settings)
        if form != "full":   # the sharded states gathered whole again (in an order every rank shares)
            unit = FullyShardedDataParallel.fsdp_modules(model)[0]
            state = {}
            for fqn in sorted(optim_state_dict["state"]):
                states = optim_state_dict["state"][fqn]
                state[fqn] = {key: states[key] for key in states}
                for key in sorted(states):
                    if hasattr(states[key], "local_shards") or hasattr(states[key], "placements"):
                        state[fqn][key] = whole_value(unit, form, states[key])
            optim_state_dict = {**optim_state_dict, "state": state}
        if getattr(settings.optim_state_dict_config, "rank0_only", False):
            optim_state_dict = _broadcast_object(optim_state_dict if dist.get_rank(group) == 0 else None, group)
        result = full_optim_state_dict_to_load(model, optim, optim_state_dict)
        if load_directly:
            optim.load_state_dict(result)
        return result

    @staticmethod
    def full_optim_state_dict(model, optim, optim_input=None, rank0_only=True, group=None):
        """Deprecated for ``optim_state_dict``: the whole optimizer state keyed by parameter names, on rank 0 only
        with ``rank0_only`` (other ranks get an empty dict)."""
        from ._optim_utils import full_optim_state_dict
        _warn_legacy_optim_state_dict("full_optim_state_dict", "optim_state_dict")
        result = full_optim_state_dict(model, optim, optim.state_dict())
        return {} if rank0_only and dist.get_rank(group) != 0 else result

    @staticmethod
    def shard_full_optim_state_dict(full_optim_state_dict, model, optim_input=None, optim=None):
        """Deprecated for ``optim_state_dict_to_load``: this rank's shards of a whole optimizer state dict."""
        from ._optim_utils import full_optim_state_dict_to_load
        _warn_legacy_optim_state_dict("shard_full_optim_state_dict", "optim_state_dict_to_load")
        return full_optim_state_dict_to_load(model, optim if optim is not None else _ParamGroups(model, optim_input),
                                             full_optim_state_dict)

    @staticmethod
    def scatter_full_optim_state_dict(full_optim_state_dict, model, optim_input=None, optim=None, group=None):
        """Deprecated for ``optim_state_dict_to_load``: rank 0's whole optimizer state dict, sent to every rank
        and cut into its shards."""
        from ._optim_utils import full_optim_state_dict_to_load
        _warn_legacy_optim_state_dict("scatter_full_optim_state_dict", "optim_state_dict_to_load")
        full = _broadcast_object(full_optim_state_dict if dist.get_rank(group) == 0 else None, group)
        return full_optim_state_dict_to_load(model, optim if optim is not None else _ParamGroups(model, optim_input),
                                             full)


@contextlib.contextmanager
def _summoned(units, writeback, rank0_only, with_grads):
    """The units' original parameters whole while inside (see ``summon_full_params``)."""
    entered = []
    try:
        for unit in units:
            if unit._in_summon:
                raise AssertionError("summon_full_params: an FSDP unit is already summoned")
            if unit._handle is not None:
                register = not rank0_only or unit.rank == 0
                unit._handle.enter_full(register=register, with_grads=with_grads)
            unit._in_summon = True
            entered.append(unit)
        yield
    finally:
        for unit in reversed(entered):
            if unit._handle is not None:
                unit._handle.exit_full(writeback=writeback)
            unit._in_summon = False


class _ParamGroups:
    """Stands in for an optimizer built on ``optim_input`` (parameter groups, or parameters; the model's when None),
    for the legacy optimizer-state functions called without ``optim``."""

    def __init__(self, model, optim_input):
        params = list(model.parameters() if optim_input is None else optim_input)
        self.param_groups = params if params and isinstance(params[0], dict) else [{"params": params}]


def _warn_legacy_optim_state_dict(current, new):
    warnings.warn(f"``FullyShardedDataParallel.{current}``is being deprecated and is replaced by "
                  f"``FullyShardedDataParallel.{new}``. ``FullyShardedDataParallel.{current}`` may be removed after "
                  "PyTorch 2.2.", FutureWarning, stacklevel=3)


class _IdSet:
    """Membership by identity, for the ``p not in ignored_params`` test of the wrap policies."""

    def __init__(self, ids):
        self.ids = ids

    def __contains__(self, item):
        return id(item) in self.ids


def _check_device(module, device_id):
    from ... import cuda
    if device_id is not None:
        return
    if not cuda.is_available():
        raise RuntimeError("FSDP needs a non-CPU accelerator device, but no accelerator device is detected.")


def _override_module_mixed_precision(root, classes):
    """Marks the modules of ``classes`` to be wrapped without mixed precision, running in float32: their floating
    inputs are cast to float32 and their outputs back to the inputs' dtype; warns as PyTorch's when there are any."""
    from ..._tensor import Tensor
    overridden = set()
    for module in root.modules():
        if not isinstance(module, classes):
            continue
        overridden.add(type(module))
        module._wrap_overrides = {"mixed_precision": None}
        dtypes = {}

        def cast(value, dtype, dtypes=dtypes):
            if isinstance(value, Tensor) and value.is_floating_point() and value.dtype != dtype:
                dtypes.setdefault("input", value.dtype)
                return value.to(dtype)
            if isinstance(value, (tuple, list)):
                return type(value)(cast(v, dtype, dtypes) for v in value)
            return value

        def pre_hook(module, args, dtypes=dtypes):
            from ... import float32
            dtypes.clear()
            return cast(args, float32, dtypes)

        def post_hook(module, args, output, dtypes=dtypes):
            return cast(output, dtypes["input"], {}) if "input" in dtypes else output
        module.register_forward_pre_hook(pre_hook)
        module.register_forward_hook(post_hook)
    if overridden:
        warnings.warn("Both mixed precision and an auto_wrap_policy were specified to FSDP, where the wrapped module "
                      f"has submodules of type:\n{overridden}\nThese modules will be wrapped as separate FSDP "
                      "instacnes with mixed precision disabled.", stacklevel=3)


def _device_from_id(device_id):
    from ... import device
    if device_id is None:
        return None
    if isinstance(device_id, int):
        return device("cuda", device_id)
    return device(device_id)


def _materialize(module, params_of, ignored_modules, param_init_fn, device_id):
    """Deferred initialization, as PyTorch's: a unit whose parameters or buffers are on the meta device is
    materialized module by module (breadth first, stopping at FSDP units and ignored modules) by ``param_init_fn``,
    or else by ``to_empty(recurse=False)`` and ``reset_parameters()`` on each module holding states."""
    import collections
    import itertools
    is_meta = any(p.is_meta for p in params_of()) or any(
        b.is_meta for m in module.modules() if m not in ignored_modules for b in m.buffers(recurse=False))
    if not is_meta:
        return
    modules, queue, visited = [], collections.deque([module]), {id(module)}
    while queue:
        current = queue.popleft()
        modules.append(current)
        for child in current.children():
            if id(child) not in visited and not isinstance(child, FullyShardedDataParallel) and \
                    child not in ignored_modules:
                visited.add(id(child))
                queue.append(child)
    if param_init_fn is not None:
        if not callable(param_init_fn):
            raise ValueError(f"Expected {param_init_fn} to be callable but got {type(param_init_fn)}")
        for current in modules:
            param_init_fn(current)
        return
    from ... import device
    target = _device_from_id(device_id) or device("cpu")
    current = None
    try:
        with no_grad():
            for current in modules:
                if any(True for _ in itertools.chain(current.parameters(recurse=False),
                                                     current.buffers(recurse=False))):
                    current.to_empty(device=target, recurse=False)
                    current.reset_parameters()
    except BaseException as error:
        warnings.warn(f"Unable to call `reset_parameters()` for module on meta device with error {error}. Please "
                      f"ensure that your module oftype {type(current)} implements a `reset_parameters()` method.",
                      stacklevel=2)
        raise


def _unit_buffers(module):
    """The buffers under ``module`` not inside a nested FSDP unit."""
    stack = [module]
    while stack:
        current = stack.pop()
        yield from (b for b in current._buffers.values() if b is not None)
        stack.extend(m for m in current._modules.values()
                     if m is not None and not isinstance(m, FullyShardedDataParallel))


def _register_pre_backward_hooks(output, hook):
    """Registers ``hook`` on every tensor in ``output`` (nested tuples, lists and dicts) that requires grad."""
    from ..._tensor import Tensor
    if isinstance(output, Tensor):
        if output.requires_grad:
            output.register_hook(hook)
    elif isinstance(output, (tuple, list)):
        for value in output:
            _register_pre_backward_hooks(value, hook)
    elif isinstance(output, dict):
        for value in output.values():
            _register_pre_backward_hooks(value, hook)


def _cast_floats(value, dtype):
    from ..._tensor import Tensor
    if isinstance(value, Tensor):
        return value.to(dtype) if value.is_floating_point() else value
    if isinstance(value, tuple):
        return tuple(_cast_floats(v, dtype) for v in value)
    if isinstance(value, list):
        return [_cast_floats(v, dtype) for v in value]
    if isinstance(value, dict):
        return {k: _cast_floats(v, dtype) for k, v in value.items()}
    return value


def _optim_form(model, settings):
    """The optimizer state dict's form: "full", or with SHARDED_STATE_DICT "dtensor"/"sharded" as the model's."""
    if settings.state_dict_type == StateDictType.LOCAL_STATE_DICT:
        raise NotImplementedError("ember's FSDP has no LOCAL_STATE_DICT optimizer state dicts (PyTorch's are "
                                  "deprecated); use FULL_STATE_DICT or SHARDED_STATE_DICT")
    return state_dict_form(FullyShardedDataParallel.fsdp_modules(model)[0])


def _broadcast_object(obj, group):
    holder = [obj]
    dist.broadcast_object_list(holder, src=0, group=group)
    return holder[0]


def _rename_prefix(mapping, old, new):
    """Renames the keys of ``mapping`` starting with ``old`` to start with ``new`` instead, in place and in
    order."""
    if not any(key.startswith(old) for key in mapping):
        return
    items = list(mapping.items())
    mapping.clear()
    for key, value in items:
        mapping[new + key[len(old):] if key.startswith(old) else key] = value


def _pre_state_dict_hook(module, prefix, keep_vars):
    module._lazy_init()
    if module._handle is not None and not module._in_summon and state_dict_form(module) != "local":
        module._handle.enter_full()


def _post_state_dict_hook(module, state_dict, prefix, local_metadata):
    handle = module._handle
    config = module._state_dict_config
    drop = getattr(config, "rank0_only", False) and module.rank != 0
    if handle is not None and not module._in_summon:
        form = state_dict_form(module)
        if form == "local":
            state_dict[prefix + FSDP_PREFIX + FLAT_PARAM] = local_flat_shard(handle)
        else:
            for info in handle.infos:   # (a checkpoint wrapper inside the unit has left its name out already)
                for key in (prefix + FSDP_PREFIX + info.fqn,
                            prefix + FSDP_PREFIX + info.fqn.replace("_checkpoint_wrapped_module.", "")):
                    if key in state_dict:
                        state_dict[key] = sharded_value(module, form, state_dict[key].detach())
                        break
            handle.exit_full(writeback=False)
    if drop:
        for key in [k for k in state_dict if k.startswith(prefix)]:
            del state_dict[key]
    _rename_prefix(state_dict, prefix + FSDP_PREFIX, prefix)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        _rename_prefix(metadata, prefix + FSDP_PREFIX, prefix)
        metadata.pop(prefix + FSDP_WRAPPED_MODULE, None)
    if module._is_root and module._buffer_dtypes:   # full state dicts keep buffers in their own dtypes
        for name, sub in module.named_modules(prefix=prefix[:-1]):
            for buffer_name in sub._buffers:
                key = f"{name}.{buffer_name}".replace(FSDP_PREFIX, "").lstrip(".")
                dtype = module._buffer_dtypes.get((id(sub), buffer_name))
                if dtype is not None and key in state_dict:
                    state_dict[key] = state_dict[key].to(dtype)


def _pre_load_state_dict_hook(module, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
    module._lazy_init()
    form = state_dict_form(module)
    keys = [k for k in state_dict if k.startswith(prefix) and not k.startswith(prefix + FSDP_PREFIX)]
    if keys:
        items = list(state_dict.items())
        state_dict.clear()
        for key, value in items:
            renamed = prefix + FSDP_PREFIX + key[len(prefix):] if key in keys else key
            state_dict[renamed] = value
    handle = module._handle
    if handle is None:
        return
    if form == "local":
        key = prefix + FSDP_PREFIX + FLAT_PARAM
        if key in state_dict:
            state_dict[key] = flat_shard_to_load(handle, state_dict[key])
        return
    if form != "full":
        for info in handle.infos:
            key = prefix + FSDP_PREFIX + info.fqn
            if key in state_dict:
                state_dict[key] = whole_value(module, form, state_dict[key])
    handle.enter_full()


def _post_load_state_dict_hook(module, incompatible_keys):
    if module._handle is not None:
        module._handle.exit_full(writeback=True)
    for keys in (incompatible_keys.missing_keys, incompatible_keys.unexpected_keys):
        keys[:] = [key.replace(FSDP_PREFIX, "") for key in keys]

