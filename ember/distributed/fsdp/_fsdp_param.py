"""FSDP2's per-module state: the parameters one ``fully_shard`` call manages, each held as a Shard(0) DTensor
(``FSDPParam``), gathered whole before the module's forward and reduce-scattered back after backward.

Unsharding all-gathers each shard and registers the whole value as a plain Parameter in the module (as PyTorch's
``unsafe_setattr_param``), so the forward and its autograd graph see ordinary tensors; resharding registers the
sharded DTensor again. A gathered parameter's gradient is reduce-scattered, divided by the mesh size, into the
sharded parameter's ``grad`` once the backward has finished (``Variable._execution_engine.queue_callback``).
ember's autograd saves arrays, not tensors, so resharding after forward drops the module's references to the
gathered values while the graph keeps what backward needs; PyTorch frees that memory and gathers again."""
from ... import autograd
from ..._tensor import _make
from ...autograd.grad_mode import no_grad
from ...nn.parameter import Parameter
from ..tensor import DTensor, Partial
from ..tensor._dtensor import DTensorSpec, _new, contiguous_stride
from ..tensor._redistribute import all_gather, chunk, reduce_scatter


class FSDPParam:
    """One managed parameter: where it is registered (``owners``: module and attribute name pairs), its sharded
    DTensor Parameter, and while unsharded its gathered Parameter."""

    def __init__(self, param, owners, mesh, placement, device):
        self.owners, self.mesh, self.dim = owners, mesh, placement.dim
        self.orig_dtype = param.dtype
        full = param.detach()
        local = chunk(full._data, self.dim, mesh.size(), mesh.get_local_rank())
        shape = tuple(full.shape)
        spec = DTensorSpec(mesh, (placement,), type(full.shape)(shape), contiguous_stride(shape))
        sharded = _new(local, spec)
        if sharded.device.type not in (device, "meta"):   # (meta parameters stay there until to_empty)
            sharded = _new(sharded.to_local().to(device)._data, spec)
        self.sharded = Parameter(sharded, requires_grad=param.requires_grad)
        self.unsharded = None
        self.accumulated = None   # the gathered gradient summed while gradient sync is off
        self.pending = None       # the gathered gradient of this backward, to reduce-scatter when it finishes

    def unshard(self, param_dtype):
        """Gathers the whole value into a plain Parameter and registers it (once until the next reshard)."""
        if self.unsharded is None:
            local = self.sharded._data
            if param_dtype is not None and param_dtype != self.orig_dtype:
                local = local.astype(param_dtype.numpy)
            whole = all_gather(local, self.dim, self.sharded.shape[self.dim], self.mesh.get_group(), self.mesh.size())
            self.unsharded = Parameter(_make(whole), requires_grad=self.sharded.requires_grad)
        self._register(self.unsharded)
        return self.unsharded

    def reshard(self):
        """Registers the sharded DTensor again and forgets the gathered value."""
        self._register(self.sharded)
        self.unsharded = None

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

    def reduce_grad(self, reduce_dtype, divide_factor):
        """Reduce-scatters the pending gradient (summed over the mesh, divided by ``divide_factor``) into the sharded
        parameter's ``grad``, accumulating onto one already there."""
        grad, self.pending = self.pending._data, None
        if reduce_dtype is not None and grad.dtype != reduce_dtype.numpy:
            grad = grad.astype(reduce_dtype.numpy)
        mesh = self.mesh
        local = reduce_scatter(grad, self.dim, Partial("sum"), mesh.get_group(), mesh.size(), mesh.get_local_rank())
        local = (local / divide_factor).astype(self.orig_dtype.numpy, copy=False)
        with no_grad():
            if self.sharded.grad is None:
                self.sharded.grad = _new(local, self.sharded._spec)
            else:
                self.sharded.grad._data = self.sharded.grad._data + local


class FSDPState:
    """What one ``fully_shard`` call keeps for its modules: the managed parameters and settings, and the forward
    hooks."""

    def __init__(self, modules, params, mesh, reshard_after_forward, auto_reshard, mp_policy, offload_policy):
        self.modules, self.params, self.mesh = modules, params, mesh
        self.reshard_after_forward, self.auto_reshard = reshard_after_forward, auto_reshard
        self.mp_policy, self.offload_policy = mp_policy, offload_policy
        self.requires_gradient_sync = True
        self.divide_factor = None
        self.is_root = None
        self.unsharded = False
        self._queued = False

    # --- forward ---------------------------------------------------------------------------------------------------
    def pre_forward(self, module, args, kwargs):
        if self.is_root is None:
            self._lazy_init()
        self._queued = False   # (a backward that raised before its callback ran left it set)
        if self.mp_policy.param_dtype is not None and self.mp_policy.cast_forward_inputs:
            args, kwargs = _cast_floats((args, kwargs), self.mp_policy.param_dtype)
        self.unshard()
        return args, kwargs

    def post_forward(self, module, args, output):
        if self.reshard_after_forward:
            self.reshard()
        if self.mp_policy.output_dtype is not None:
            output = _cast_floats(output, self.mp_policy.output_dtype)
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
            fresh = param.unsharded is None
            gathered = param.unshard(self.mp_policy.param_dtype)
            if fresh and gathered.requires_grad:
                gathered.register_post_accumulate_grad_hook(self._grad_ready(param))
        self.unsharded = True

    def reshard(self):
        """Registers the sharded DTensors again."""
        for param in self.params:
            param.reshard()
        self.unsharded = False

    def _grad_ready(self, param):
        def hook(gathered):
            param.take_grad(gathered, self.requires_gradient_sync)
            if not self._queued:
                self._queued = True
                autograd.Variable._execution_engine.queue_callback(self._post_backward)
        return hook

    def _post_backward(self):
        """Once backward has finished: reduce-scatter this module's gradients, then reshard."""
        self._queued = False
        reduce_dtype = self.mp_policy.reduce_dtype or self.mp_policy.param_dtype
        factor = self.divide_factor if self.divide_factor is not None else self.mesh.size()
        for param in self.params:
            if param.pending is not None:
                param.reduce_grad(reduce_dtype, factor)
        if self.unsharded:
            self.reshard()


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
