"""FSDP2's per-module state: the parameters one ``fully_shard`` call manages, each held as a DTensor sharded over
the mesh's last dimension (``FSDPParam``; on a 2-D mesh, HSDP, replicated over the first), gathered whole before
the module's forward and reduce-scattered back after its backward.

Unsharding all-gathers each shard into the parameter's one unsharded Parameter and registers it in the module (as
PyTorch's ``unsafe_setattr_param``), so the forward and its autograd graph see an ordinary leaf; resharding
registers the sharded DTensor again and frees the gathered storage: the Parameter keeps its shape and dtype but no
memory (as PyTorch's ``storage.resize_(0)``). Ops that saved it for backward saved the Parameter itself, so a hook
on the forward's outputs gathers it again, into the same Parameter, before backward reaches the module. Once all of
a module's gradients are ready its gathered gradients are reduce-scattered (and all-reduced over replicas), divided
by the data-parallel size, into the sharded parameters' ``grad``, and the module reshards.

A parameter that is already a DTensor on a tensor-parallel submesh (``parallelize_module`` first) has its local part
sharded over the data-parallel mesh: the sharded DTensor lives on the two meshes' joint mesh with the data-parallel
placement (a ``_StridedShard`` where both shard one dimension) before the tensor-parallel one, as in PyTorch;
gathering over the data-parallel mesh gives back the tensor-parallel DTensor, whose gradient (redistributed to the
parameter's own placement) is reduce-scattered over the data-parallel mesh."""
from ... import autograd
from ..._tensor import _make
from ...autograd import engine
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ...autograd.graph import register_multi_grad_hook
from ...nn.parameter import Parameter
from ..collectives import all_reduce
from ..device_mesh import DeviceMesh
from ..tensor import DTensor, Partial, Replicate, Shard
from ..tensor._dtensor import DTensorSpec, _new, contiguous_stride
from ..tensor._redistribute import all_gather, chunk, reduce_scatter
from ..tensor.placement_types import _StridedShard
from ._freed import freed


def _owned(array):
    """``array`` in memory of its own (a chunk along dimension 0 is a view that would keep the whole alive)."""
    return array if array.base is None else array.copy()


class MeshInfo:
    """How one ``fully_shard`` call uses its mesh: the shard dimension (the last) and, on a 2-D mesh, the replicate
    dimension (the first, HSDP); and ``post_forward``, the groups a ``reshard_after_forward`` int keeps parameters
    sharded over between forward and backward (None: all of the shard dimension)."""

    def __init__(self, mesh, post_forward=None):
        self.mesh, self.post_forward = mesh, post_forward
        self.shard_group, self.shard_size = mesh.get_group(mesh.ndim - 1), mesh.size(mesh.ndim - 1)
        self.shard_rank = mesh.get_local_rank(mesh.ndim - 1)
        self.replicate_group = mesh.get_group(0) if mesh.ndim == 2 else None
        self.size = mesh.size()

    def placements(self, placement):
        """The sharded parameters' placements: ``placement`` on the shard dimension, Replicate over replicas."""
        return (Replicate(), placement) if self.replicate_group is not None else (placement,)


class FSDPParam:
    """One managed parameter: where it is registered (``owners``: module and attribute name pairs), its sharded
    DTensor Parameter, and its unsharded Parameter (made on the first gathering; its storage is freed while
    resharded)."""

    def __init__(self, param, owners, info, placement, device):
        self.owners, self.info, self.dim = owners, info, placement.dim
        self.orig_dtype = param.dtype
        self.tp_spec = param._spec if isinstance(param, DTensor) else None   # the tensor-parallel layout, if any
        whole = param._data   # (a DTensor's: its tensor-parallel part)
        self.unsharded_size = whole.shape[self.dim]
        local = _owned(chunk(whole, self.dim, info.shard_size, info.shard_rank))
        shape = tuple(param.shape)
        mesh, placements = info.mesh, info.placements(placement)
        if self.tp_spec is not None:
            mesh, placements = _joint_layout(info, self.tp_spec, placement)
        spec = DTensorSpec(mesh, placements, type(param.shape)(shape), contiguous_stride(shape))
        sharded = _new(local, spec)
        if sharded.device.type not in (device, "meta"):   # (meta parameters stay there until to_empty)
            sharded = _new(sharded.to_local().to(device)._data, spec)
        self.sharded = Parameter(sharded, requires_grad=param.requires_grad)
        self.unsharded = None
        self.is_unsharded = False
        self.hooked = False   # the post-accumulate-grad hook is on the unsharded Parameter
        self.post_forward_shard = None   # this rank's part while sharded over the smaller post-forward groups
        self.accumulated = None   # the gathered gradient summed while gradient sync is off
        self.pending = None       # the gathered gradient of this backward, to reduce-scatter when it finishes
        self.partial = None       # HSDP: reduce-scattered gradients not yet all-reduced over replicas

    def unshard(self, param_dtype):
        """Gathers the whole value into the unsharded Parameter (made on the first call) and registers it."""
        if not self.is_unsharded:
            if self.post_forward_shard is not None:
                groups = self.info.post_forward
                whole = all_gather(self.post_forward_shard, self.dim, self.unsharded_size,
                                   groups.get_group(1), groups.size(1))
                self.post_forward_shard = None
            else:
                local = self.sharded._data
                if param_dtype is not None and param_dtype != self.orig_dtype:
                    local = local.astype(param_dtype.numpy)
                whole = all_gather(local, self.dim, self.unsharded_size, self.info.shard_group, self.info.shard_size)
            if self.unsharded is None:
                value = _make(whole) if self.tp_spec is None else _new(whole, self.tp_spec)
                self.unsharded = Parameter(value, requires_grad=self.sharded.requires_grad)
            else:   # into the same Parameter, which the autograd graph of an earlier forward may hold
                self.unsharded._data = whole
                self.unsharded.requires_grad = self.sharded.requires_grad
            self.is_unsharded = True
        self._register(self.unsharded)

    def reshard(self, post_forward=False):
        """Registers the sharded DTensor again and frees the gathered storage; with ``post_forward`` and smaller
        post-forward groups, keeps this rank's part of those groups' sharding for the gathering before backward."""
        self._register(self.sharded)
        if not self.is_unsharded:
            return
        whole = self.unsharded._data
        groups = self.info.post_forward
        if post_forward and groups is not None:
            self.post_forward_shard = _owned(chunk(whole, self.dim, groups.size(1), groups.get_local_rank(1)))
        self.unsharded._data = freed(whole)
        self.is_unsharded = False

    def _register(self, value):
        for module, name in self.owners:
            module._parameters[name] = value

    def take_grad(self, gathered, requires_sync):
        """Moves the gathered parameter's gradient aside: to ``pending`` (to reduce now) or ``accumulated``."""
        grad, gathered.grad = gathered.grad, None
        if self.accumulated is not None:
            grad = self.accumulated + grad
            self.accumulated = None
        if requires_sync:
            self.pending = grad if self.pending is None else self.pending + grad
        else:
            self.accumulated = grad

    def reduce_grad(self, reduce_dtype, divide_factor, all_reduce_grads=True):
        """Reduce-scatters the pending gradient over the shard dimension and, on a 2-D mesh, all-reduces it over
        replicas (without ``all_reduce_grads`` it is kept and added to the next one's instead), then divides by
        ``divide_factor`` into the sharded parameter's ``grad``, accumulating onto one already there."""
        grad, self.pending = self.pending, None
        if self.tp_spec is not None and grad._spec.placements != self.tp_spec.placements:
            with no_grad():   # (tensor parallelism's own collectives: a Partial gradient is summed over tp)
                grad = grad.redistribute(placements=self.tp_spec.placements)
        grad = grad._data
        if reduce_dtype is not None and grad.dtype != reduce_dtype.numpy:
            grad = grad.astype(reduce_dtype.numpy)
        info = self.info
        local = reduce_scatter(grad, self.dim, Partial("sum"), info.shard_group, info.shard_size, info.shard_rank)
        if info.replicate_group is not None:
            if self.partial is not None:
                local = local + self.partial
            if not all_reduce_grads:
                self.partial = local
                return
            self.partial = None
            total = _make(local)
            all_reduce(total, group=info.replicate_group)
            local = total._data
        local /= divide_factor   # (in place: the reduction's own output)
        local = local.astype(self.orig_dtype.numpy, copy=False)
        with no_grad():
            if self.sharded.grad is None:
                self.sharded.grad = _new(local, self.sharded._spec)
            else:
                self.sharded.grad._data += local


def _joint_layout(info, tp_spec, placement):
    """The mesh and placements of a tensor-parallel DTensor parameter sharded over ``info``'s data-parallel mesh:
    the two meshes joined (dp dims, then tp dims; slices of one mesh), ``placement`` strided by the number of shards
    tensor parallelism cuts the same dimension into."""
    mesh = DeviceMesh._concatenate([info.mesh, tp_spec.mesh])
    if len(tp_spec.placements) > 2:
        raise NotImplementedError(f"FSDP only supports 1D TP/EP or 2D EP+TP, not {tp_spec.placements}")
    split = 1
    for i, tp_placement in enumerate(tp_spec.placements):
        if tp_placement == Shard(placement.dim):
            split *= tp_spec.mesh.size(i)
    dp_placement = _StridedShard(placement.dim, split_factor=split) if split > 1 else placement
    placements = (dp_placement, *tp_spec.placements)
    if info.replicate_group is not None:
        placements = (Replicate(),) + placements
    return mesh, placements


class FSDPState:
    """What one ``fully_shard`` call keeps for its modules: the managed parameters and settings, and the hooks that
    gather before forward and backward and reduce after backward."""

    def __init__(self, modules, params, info, reshard_after_forward, auto_reshard, mp_policy, offload_policy):
        self.modules, self.params, self.info, self.mesh = modules, params, info, info.mesh
        self.reshard_after_forward, self.auto_reshard = reshard_after_forward, auto_reshard
        self.mp_policy, self.offload_policy = mp_policy, offload_policy
        self.requires_gradient_sync = True
        self.requires_all_reduce = True
        self.divide_factor = None
        self.is_root = None
        self.unsharded = False
        self._queued = False
        self._waiting = None   # (backward task id, ids of the parameters whose gradient it has yet to accumulate)
        self.in_backward = False   # between the pre-backward hook and the reduction

    # --- forward ---------------------------------------------------------------------------------------------------
    def pre_forward(self, module, args, kwargs):
        if self.is_root is None:
            self._lazy_init()
        if self.mp_policy.param_dtype is not None and self.mp_policy.cast_forward_inputs:
            args, kwargs = _cast_floats((args, kwargs), self.mp_policy.param_dtype)
        if not self.in_backward or engine.current_task() is None:
            self._queued = self.in_backward = False   # (a backward that raised before its callback ran left them)
            self._waiting = None
        self.unshard()
        return args, kwargs

    def post_forward(self, module, args, output):
        if self.mp_policy.output_dtype is not None:
            output = _cast_floats(output, self.mp_policy.output_dtype)
        if self.in_backward:   # activation checkpointing's recomputation: the reduction reshards
            return output
        if self.reshard_after_forward:
            self.reshard(post_forward=True)
        if is_grad_enabled():
            outputs = [t for t in _tensors_in(output) if t.requires_grad]
            if outputs:
                register_multi_grad_hook(outputs, self._pre_backward, mode="any")
        return output

    def _lazy_init(self):
        """This module runs forward first: it is the root; the FSDP modules below it are not."""
        self.is_root = True
        if self.auto_reshard:
            self.reshard_after_forward = False
        for sub in (sub for module in self.modules for sub in module.modules()):
            state = getattr(sub, "_fsdp_state", None)
            if state is not None and state is not self and state.is_root is None:
                state.is_root = False

    # --- gathering and scattering ----------------------------------------------------------------------------------
    def unshard(self):
        """Gathers every managed parameter and registers the whole values in the module."""
        for param in self.params:
            param.unshard(self.mp_policy.param_dtype)
            if param.unsharded.requires_grad and not param.hooked:
                param.unsharded.register_post_accumulate_grad_hook(self._grad_ready(param))
                param.hooked = True
        self.unsharded = True

    def reshard(self, post_forward=False):
        """Registers the sharded DTensors again and frees the gathered storage."""
        for param in self.params:
            param.reshard(post_forward)
        self.unsharded = False

    # --- backward --------------------------------------------------------------------------------------------------
    def _pre_backward(self, grad):
        """Before backward reaches the module (a gradient for one of its forward's outputs is ready): gathers the
        parameters again where forward resharded them, and queues the reduction for the end of backward (for
        parameters whose gradients never come)."""
        self.in_backward = True
        self.unshard()
        self._queue_post_backward()

    def _queue_post_backward(self):
        if not self._queued:
            self._queued = True
            autograd.Variable._execution_engine.queue_callback(self._post_backward)

    def _grad_ready(self, param):
        def hook(gathered):
            param.take_grad(gathered, self.requires_gradient_sync)
            self._queue_post_backward()
            task = engine.current_task()
            if self._waiting is None or self._waiting[0] != task.id:
                self._waiting = (task.id, {id(p) for p in self.params if p.unsharded is not None
                                           and p.unsharded.requires_grad})
            waiting = self._waiting[1]
            waiting.discard(id(param))
            if not waiting:   # the module's backward is done: reduce and reshard now, not at the end of backward
                self._post_backward()
        return hook

    def _post_backward(self):
        """Reduce-scatters this module's gathered gradients, then reshards (once every gradient of the module is
        ready, and at the end of backward for what is left)."""
        self._queued = self.in_backward = False
        reduce_dtype = self.mp_policy.reduce_dtype or self.mp_policy.param_dtype
        factor = self.divide_factor if self.divide_factor is not None else self.info.size
        for param in self.params:
            if param.pending is not None:
                param.reduce_grad(reduce_dtype, factor, self.requires_all_reduce)
        if self.unsharded:
            self.reshard()


def _tensors_in(value):
    """The tensors in ``value`` (nested tuples, lists and dicts)."""
    from ..._tensor import Tensor
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tensors_in(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors_in(v)]
    return []


def _cast_floats(value, dtype):
    """``value`` (nested tuples, lists and dicts) with floating-point tensors cast to ``dtype``."""
    from ..._tensor import Tensor
    if isinstance(value, Tensor):
        return value.to(dtype) if value.is_floating_point() and not isinstance(value, DTensor) else value
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_cast_floats(v, dtype) for v in value))
    if isinstance(value, (tuple, list)):
        return type(value)(_cast_floats(v, dtype) for v in value)
    if isinstance(value, dict):
        return {k: _cast_floats(v, dtype) for k, v in value.items()}
    return value
