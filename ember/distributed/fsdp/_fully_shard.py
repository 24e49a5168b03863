"""FSDP2: ``fully_shard(module)`` shards the module's parameters over a DeviceMesh as Shard(0) DTensors (a 2-D mesh:
replicated over its first dimension and sharded over its second, HSDP), gathers them before its forward and
reshards after (freeing the gathered storage until a hook gathers it again before the module's backward), and
reduce-scatters gradients (averaged over the data-parallel ranks) into sharded DTensor gradients once the module's
backward is done. The module's class becomes ``FSDP<Class>``, a subclass of ``FSDPModule`` and of its own class, as
in PyTorch. Applied per block and then to the root, each call manages the parameters not already managed by a call
below it (see ``_fsdp_param``)."""
from dataclasses import dataclass

from ... import _dtype
from ...nn.modules.module import Module
from ..device_mesh import DeviceMesh, init_device_mesh
from ..process_group import get_world_size
from ..tensor import Shard
from ._fsdp_param import FSDPParam, FSDPState, MeshInfo

__all__ = ["fully_shard", "FSDPModule", "UnshardHandle", "MixedPrecisionPolicy", "OffloadPolicy", "CPUOffloadPolicy",
           "register_fsdp_forward_method"]


@dataclass(frozen=True)
class MixedPrecisionPolicy:
    """Dtypes for FSDP2: ``param_dtype`` for the gathered parameters (and the forward inputs, with
    ``cast_forward_inputs``), ``reduce_dtype`` for the gradient reduction, ``output_dtype`` for forward outputs."""
    param_dtype: _dtype.dtype = None
    reduce_dtype: _dtype.dtype = None
    output_dtype: _dtype.dtype = None
    cast_forward_inputs: bool = True


@dataclass
class OffloadPolicy:
    """No offloading: sharded parameters, gradients and optimizer state stay on the mesh's device."""


@dataclass
class CPUOffloadPolicy(OffloadPolicy):
    """Sharded parameters and gradients stay on the CPU (the optimizer steps there); gathered parameters are copied
    to the mesh's device for forward and backward. ``pin_memory`` has no effect on ember."""
    pin_memory: bool = True


class UnshardHandle:
    """What ``FSDPModule.unshard(async_op=True)`` returns; ember gathers at once, so ``wait`` has nothing to do."""

    def wait(self):
        """Waits for the gathering (already done)."""


class FSDPModule:
    """The class ``fully_shard`` mixes into a module's class: ``FSDP<Class>(FSDPModule, Class)``."""

    _orig_cls_mro_index = 2

    def __new__(cls, *args, **kwargs):
        """A container indexed or sliced makes its original class, not the FSDP one."""
        orig_cls = cls.__mro__[cls._orig_cls_mro_index]
        self = orig_cls.__new__(orig_cls, *args, **kwargs)
        self.__init__(*args, **kwargs)
        return self

    def __deepcopy__(self, memo):
        raise AssertionError("FSDP does not support deepcopy. Please use state dict for serialization.")

    def _states(self, recurse):
        modules = self.modules() if recurse else [self]
        return [m._fsdp_state for m in modules if isinstance(m, FSDPModule)]

    def unshard(self, async_op=False):
        """Gathers this module's parameters (registered whole until ``reshard``); a handle with ``async_op``."""
        self._fsdp_state.unshard()
        return UnshardHandle() if async_op else None

    def reshard(self):
        """Registers this module's sharded parameters again, freeing the gathered ones."""
        self._fsdp_state.reshard()

    def set_requires_gradient_sync(self, requires_gradient_sync, *, recurse=True):
        """Whether backward reduce-scatters gradients (False: they accumulate unreduced, for gradient
        accumulation, and the next synchronized backward reduces their sum)."""
        for state in self._states(recurse):
            state.requires_gradient_sync = requires_gradient_sync

    def set_reshard_after_forward(self, reshard_after_forward, recurse=True):
        """Whether the parameters are resharded after forward (else they stay gathered until after backward)."""
        if not isinstance(reshard_after_forward, bool):
            raise ValueError(f"reshard_after_forward should be a bool, got {type(reshard_after_forward)}")
        for state in self._states(recurse):
            state.reshard_after_forward, state.auto_reshard = reshard_after_forward, False
            state.info.post_forward = None

    def set_gradient_divide_factor(self, factor):
        """Divides the summed gradients by ``factor`` instead of the mesh size."""
        for state in self._states(True):
            state.divide_factor = factor

    def set_is_last_backward(self, is_last_backward):
        """A scheduling hint for PyTorch's final backward; ember's backward needs none."""

    def set_requires_all_reduce(self, requires_all_reduce, *, recurse=True):
        """Whether HSDP all-reduces gradients across replicas (False: the reduce-scattered gradients accumulate
        until a backward that all-reduces adds them in); a 1-D mesh has no all-reduce."""
        for state in self._states(recurse):
            state.requires_all_reduce = requires_all_reduce

    def set_reshard_after_backward(self, reshard_after_backward, *, recurse=True):
        """ember always reshards after backward."""

    def set_modules_to_forward_prefetch(self, modules):
        """Prefetching order; ember gathers each module as its forward starts."""

    def set_modules_to_backward_prefetch(self, modules):
        """Prefetching order; ember gathers each module as backward reaches it."""


_FSDP_CLASSES = {}


def _fsdp_class(cls):
    if cls not in _FSDP_CLASSES:
        _FSDP_CLASSES[cls] = type(f"FSDP{cls.__name__}", (FSDPModule, cls), {"__module__": cls.__module__})
    return _FSDP_CLASSES[cls]


def fully_shard(module, *, mesh=None, reshard_after_forward=None, shard_placement_fn=None,
                mp_policy=MixedPrecisionPolicy(), offload_policy=OffloadPolicy(), ignored_params=None):
    """Shards ``module``'s parameters (those no inner ``fully_shard`` manages) over ``mesh`` (default: every rank,
    one dimension; a 2-D mesh replicates over its first dimension, HSDP) as DTensors, and hooks its forward to
    gather them and its backward to reduce-scatter the gradients. ``reshard_after_forward`` defaults to True, except
    for the root module (the first to run forward); an int reshards to groups of that many ranks. A list of
    modules shares one group: each one's forward gathers the group's parameters."""
    from ...nn import ModuleDict, ModuleList
    modules = list(module) if isinstance(module, (list, tuple)) else [module]
    for each in modules:
        if isinstance(each, (ModuleList, ModuleDict)):
            raise ValueError(f"fully_shard does not support containers that do not implement forward: {each}")
        if not isinstance(each, Module):
            raise TypeError(f"fully_shard takes an nn.Module or a list of them, got {type(each).__name__}")
    if mesh is None:
        from ... import cuda
        mesh = init_device_mesh("cuda" if cuda.is_available() else "cpu", (get_world_size(),))
    if not isinstance(mesh, DeviceMesh):
        raise ValueError(f"fully_shard expects a DeviceMesh but got {mesh}")
    if mesh.ndim not in (1, 2):
        raise ValueError(f"fully_shard expects a 1D or 2D DeviceMesh but got {mesh}")
    if mesh.ndim == 2 and mesh.mesh_dim_names is None:
        raise AssertionError("Please init the 2D mesh for HSDP with mesh_dim_names specified")
    reshard_after_forward, post_forward = _post_forward_resharding(reshard_after_forward, mesh)
    ignored = set(map(id, ignored_params or ()))
    owners = {}
    managed = {}
    for each in modules:
        managed.update(dict.fromkeys(_managed_modules(each)))
    for owner in managed:
        for name, param in owner._parameters.items():
            if param is not None and id(param) not in ignored:
                owners.setdefault(id(param), (param, []))[1].append((owner, name))
    info = MeshInfo(mesh, post_forward)
    device = "cpu" if isinstance(offload_policy, CPUOffloadPolicy) else mesh.device_type
    params = []
    for param, where in owners.values():
        placement = shard_placement_fn(param) if shard_placement_fn is not None else None
        placement = Shard(0) if placement is None else placement
        if param.ndim == 0:
            raise ValueError("fully_shard cannot shard a 0-d parameter")
        fsdp_param = FSDPParam(param, where, info, placement, device)
        fsdp_param.reshard()
        params.append(fsdp_param)
    auto = reshard_after_forward is None
    state = FSDPState(modules, params, info, True if auto else reshard_after_forward, auto, mp_policy, offload_policy)
    for each in modules:
        each._fsdp_state = state
        each.register_forward_pre_hook(state.pre_forward, prepend=True, with_kwargs=True)
        each.register_forward_hook(state.post_forward)
        each.__class__ = _fsdp_class(type(each))
    return module


def _post_forward_resharding(reshard_after_forward, mesh):
    """``reshard_after_forward`` as a bool (None: decided at the root), and for an int the groups of that many
    consecutive ranks the parameters stay sharded over between forward and backward (a 2-D DeviceMesh whose second
    dimension they are; None for a bool), as PyTorch's ``_get_post_forward_mesh_info``."""
    if reshard_after_forward is None or isinstance(reshard_after_forward, bool):
        return reshard_after_forward, None
    size = mesh.size(mesh.ndim - 1)
    if not isinstance(reshard_after_forward, int):
        raise ValueError("reshard_after_forward should be a bool or an int representing the group size to reshard "
                         f"to, not {reshard_after_forward}")
    if reshard_after_forward < 1 or reshard_after_forward > size or size % reshard_after_forward:
        raise ValueError(f"If passing reshard_after_forward as an int, it should be a factor of {size}, not "
                         f"{reshard_after_forward}")
    if reshard_after_forward == 1:
        return False, None
    if reshard_after_forward == size:
        return True, None
    grid = mesh.mesh.reshape(-1, reshard_after_forward)
    return True, DeviceMesh(mesh.device_type, grid)


def _managed_modules(module):
    """``module`` and the modules below it that no inner ``fully_shard`` call manages."""
    found, stack = [], [module]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(reversed([child for child in current._modules.values()
                               if child is not None and not isinstance(child, FSDPModule)]))
    return found


def register_fsdp_forward_method(module, method_name):
    """Makes ``module.<method_name>`` (a method other than forward) gather and reshard as forward does."""
    if not isinstance(module, FSDPModule):
        return
    state, method = module._fsdp_state, getattr(module, method_name)

    def wrapped(*args, **kwargs):
        args, kwargs = state.pre_forward(module, args, kwargs)
        return state.post_forward(module, args, method(*args, **kwargs))
    setattr(module, method_name, wrapped)
