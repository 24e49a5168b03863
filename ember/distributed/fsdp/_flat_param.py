"""One FSDP unit's parameters as one flat tensor: ``FlatParameter`` (this rank's shard of it) and the handle that
all-gathers it before the unit's forward, lays the original parameters over it as views and reduce-scatters the
unsharded gradient back into the shard's ``.grad`` after backward.

The layout is PyTorch's: the parameters in ``named_modules`` order, flattened and concatenated; with
``use_orig_params`` each starts at a 16-byte boundary and the whole is padded to a multiple of the world size (the
padding elements hold 42, as PyTorch's); rank r holds chunk r of ``flat.chunk(world_size)``, zero-padded to the first
chunk's length."""
from ... import distributed as dist
from ...autograd.function import Function
from ...autograd.grad_mode import no_grad
from ...nn.parameter import Parameter
from ._freed import freed
from .api import ShardingStrategy

__all__ = ["FlatParameter", "FlatParamHandle"]

_FLAT_PARAM_PADDING_VALUE = 42
_ALIGNMENT = 16   # bytes, with use_orig_params (TorchInductor's constraint in PyTorch)


class FlatParameter(Parameter):
    """The flattened parameters of one FSDP unit; a rank holds its shard (the whole, with ``NO_SHARD``)."""


class _ParamInfo:
    """Where one original parameter lives: its module and attribute name, its name inside the unit, its shape and its
    offset and length in the unsharded flat tensor."""

    __slots__ = ("module", "name", "fqn", "shape", "offset", "numel", "param")

    def __init__(self, module, name, fqn, shape, offset, numel, param):
        self.module, self.name, self.fqn, self.shape = module, name, fqn, shape
        self.offset, self.numel, self.param = offset, numel, param


class _Unshard(Function):
    """The all-gathered flat parameter as an autograd op: backward hands the unsharded gradient to the handle, which
    reduces it into the shard's ``.grad`` itself (so the shard may hold an unsharded gradient under ``no_sync``)."""

    @staticmethod
    def forward(ctx, flat_param, handle):
        ctx.handle = handle
        return handle.unshard(handle.compute_dtype)

    @staticmethod
    def backward(ctx, grad):
        ctx.handle.reduce_grad(grad)
        ctx.handle.in_backward = False
        _free(ctx.gathered)   # backward is done with this forward's whole parameters
        return None, None


class _Gathered(list):
    """The views one forward laid the original parameters over, with the whole tensor they view (``full``) and
    whether its storage is freed (between a FULL_SHARD unit's forward and its backward, and after that)."""

    def __init__(self, views, full):
        super().__init__(views)
        self.full, self.freed = full, False


def _free(gathered):
    """Frees the storage of a forward's whole tensor and its views, which the autograd graph holds: they keep shape
    and dtype over no memory (computing with them raises) until ``FlatParamHandle.pre_backward`` gathers again."""
    if gathered is None or gathered.freed:
        return
    for tensor in (gathered.full, *gathered):
        tensor._data = freed(tensor._data)
    gathered.freed = True


def _validate_tensors_to_flatten(tensors, use_orig_params):
    """PyTorch's checks on a unit's parameters: floating point, one dtype, one device, and (without
    ``use_orig_params``) one ``requires_grad``."""
    dtype = requires_grad = device = None
    for tensor in tensors:
        if isinstance(tensor, FlatParameter):
            raise ValueError("Cannot flatten a `FlatParameter`")
        if dtype is None and not tensor.is_floating_point():
            raise ValueError("Cannot flatten integer dtype tensors")
        if dtype is not None and tensor.dtype != dtype:
            raise ValueError(f"Must flatten tensors with uniform dtype but got {dtype} and {tensor.dtype}")
        if not use_orig_params and requires_grad is not None and tensor.requires_grad != requires_grad:
            raise ValueError("Must flatten tensors with uniform `requires_grad` when `use_orig_params=False`")
        if device is not None and tensor.device != device:
            raise ValueError(f"Must flatten tensors on the same device but got both {device} and {tensor.device}")
        dtype, device = tensor.dtype, tensor.device
        requires_grad = requires_grad or tensor.requires_grad


class FlatParamHandle:
    """Builds a unit's FlatParameter from ``params`` (found under ``module``) and runs its unshard/reshard and
    gradient reduction."""

    def __init__(self, params, module, state):
        from ... import cat, ones, zeros
        self.state, self.module = state, module
        self.group, self.sharded = state.process_group, state._sharded
        self.rank, self.world_size = self.group.rank(), self.group.size()
        self.use_orig_params = state._use_orig_params
        ids = {id(p) for p in params}
        _validate_tensors_to_flatten(params, self.use_orig_params)
        dtype, device = params[0].dtype, params[0].device
        aligned = _ALIGNMENT // dtype.itemsize if self.use_orig_params else 0
        self.infos, self.shared, memo, pieces, total = [], [], {}, [], 0

        def pad(numel):
            pieces.append(ones(numel, dtype=dtype, device=device) * _FLAT_PARAM_PADDING_VALUE)
            return numel
        with no_grad():
            for sub_name, sub in module.named_modules(remove_duplicate=False):
                for name, param in list(sub._parameters.items()):
                    if param is None or id(param) not in ids:
                        continue
                    if id(param) in memo:   # the same parameter under a second name
                        self.shared.append((sub, name, memo[id(param)]))
                        continue
                    if aligned and 0 < aligned - total % aligned < aligned:
                        total += pad(aligned - total % aligned)
                    info = _ParamInfo(sub, name, f"{sub_name}.{name}" if sub_name else name, tuple(param.shape),
                                      total, param.numel(), param)
                    memo[id(param)] = info
                    self.infos.append(info)
                    pieces.append(param.detach().reshape(-1))
                    total += param.numel()
            if aligned and 0 < self.world_size - total % self.world_size < self.world_size:
                total += pad(self.world_size - total % self.world_size)
            full = cat(pieces)
            self.unpadded_numel = total
            world = self.world_size if self.sharded else 1
            self.shard_numel = -(-total // world)
            self.padded_numel = self.shard_numel * world
            self.shard_start = self.rank * self.shard_numel if self.sharded else 0
            shard = full[self.shard_start:self.shard_start + self.shard_numel]
            if shard.numel() < self.shard_numel:
                shard = cat([shard, zeros(self.shard_numel - shard.numel(), dtype=dtype, device=device)])
            requires_grad = any(p.requires_grad for p in params)
            self.flat_param = FlatParameter(shard.clone(), requires_grad=requires_grad)
        self.flat_param._fsdp_flattened = True
        self.flat_param._unpadded_unsharded_size = (self.unpadded_numel,)
        self.flat_param._padded_unsharded_size = (self.padded_numel,)
        self.flat_param._fqns = tuple(info.fqn for info in self.infos)
        self.flat_param._shapes = tuple(info.shape for info in self.infos)
        self.flat_param._numels = tuple(info.numel for info in self.infos)
        self._saved_grad_shard = None
        self._full = None
        self.in_backward = False   # between the pre-backward hook and the gradient's reduction
        self._summoned = self._summoned_grads = False
        if self.use_orig_params:
            for info in self.infos:
                info.param._fsdp_flattened = True
            self._use_sharded_views()
        else:
            for info in self.infos:
                del info.module._parameters[info.name]
            for sub, name, _ in self.shared:
                del sub._parameters[name]
            module.register_parameter("_flat_param", self.flat_param)
            self._reshard()

    # --- layout -----------------------------------------------------------------------------------------
    @property
    def compute_dtype(self):
        param_dtype = self.state._mixed_precision.param_dtype if self.state._mixed_precision else None
        return param_dtype or self.flat_param.dtype

    def shard_range(self, info):
        """The part of ``info``'s parameter in this rank's shard: (start, end) in the unsharded flat tensor."""
        start = max(info.offset, self.shard_start)
        end = min(info.offset + info.numel, self.shard_start + self.shard_numel)
        return start, max(start, end)

    def unshard(self, dtype=None):
        """The whole (padded) flat tensor, all-gathered from the ranks' shards, in ``dtype``; a new tensor, outside
        the autograd graph."""
        shard = self.flat_param.detach()
        if dtype is not None and dtype != shard.dtype:
            shard = shard.to(dtype)
        if not self.sharded:
            return shard.clone()
        from ... import empty
        full = empty(self.padded_numel, dtype=shard.dtype, device=shard.device)
        dist.all_gather_single(full, shard.contiguous(), group=self.group)
        return full

    def _views(self, full):
        return [full[info.offset:info.offset + info.numel].view(info.shape) for info in self.infos]

    def _use_unsharded_views(self, full):
        """Sets each original parameter's attribute to a view of ``full`` (a plain tensor, shadowing a registered
        parameter of the same name while it is there), or to the views in the list ``full``; returns the views."""
        views = self._views(full) if not isinstance(full, list) else full
        for info, view in zip(self.infos, views):
            info.module.__dict__[info.name] = view
        for sub, name, info in self.shared:
            sub.__dict__[name] = views[self.infos.index(info)]
        return views

    def _use_sharded_views(self):
        """Points each original parameter (``use_orig_params``) at its part of this rank's shard (the whole of it,
        shaped, with ``NO_SHARD``), and drops the unsharded attributes that shadowed it."""
        flat = self.flat_param.detach()
        for info in self.infos:
            if self.sharded:
                start, end = self.shard_range(info)
                info.param.data = flat[start - self.shard_start:end - self.shard_start]
            else:   # NO_SHARD: the whole parameter, in its shape
                info.param.data = flat[info.offset:info.offset + info.numel].view(info.shape)
            info.module.__dict__.pop(info.name, None)
        for sub, name, _ in self.shared:
            sub.__dict__.pop(name, None)

    # --- forward ---------------------------------------------------------------------------------------
    def pre_forward(self):
        """All-gathers the flat parameter (recorded for backward when gradients are wanted) and lays the original
        parameters over it."""
        from ...autograd.grad_mode import is_grad_enabled
        if is_grad_enabled() and self.flat_param.requires_grad:
            full = _Unshard.apply(self.flat_param, self)
            gathered = _Gathered(self._use_unsharded_views(full), full)
            full.grad_fn.gathered = gathered
            return gathered
        return _Gathered(self._use_unsharded_views(self.unshard(self.compute_dtype)), None)

    def pre_backward(self, views):
        """Before backward enters the unit: its modules see the forward's unsharded views again (a checkpointed
        module reruns its forward in backward, and must build the graph it built then), gathered again into the
        same tensors where the forward freed them."""
        self.in_backward = True
        if views.freed:
            whole = self.unshard(self.compute_dtype)._data
            views.full._data = whole
            for info, view in zip(self.infos, views):
                view._data = whole[info.offset:info.offset + info.numel].reshape(info.shape)
            views.freed = False
        self._use_unsharded_views(views)

    def post_forward(self, free, views):
        """After the unit's forward: the original parameters are this rank's views again (``use_orig_params``); with
        ``free`` (FULL_SHARD) the unsharded views go and the storage the autograd graph holds is freed."""
        if self.use_orig_params or free:
            self._reshard()
        if free and views.full is not None:
            _free(views)

    def _reshard(self):
        """Drops the unsharded views: the original parameters (``use_orig_params``) view this rank's shard again;
        otherwise each becomes a placeholder of its shape and dtype holding one zero (expanded), as PyTorch leaves
        tensors whose storage it freed: modules may read their shapes, and the whole tensor lives on only in the
        autograd graph."""
        if self.use_orig_params:
            self._use_sharded_views()
            return
        from ... import zeros
        flat = self.flat_param
        placeholders = [zeros((), dtype=flat.dtype, device=flat.device).expand(info.shape) for info in self.infos]
        self._use_unsharded_views(placeholders)

    # --- gradients -------------------------------------------------------------------------------------
    def _current_grad(self):
        """The gradient to accumulate into: the flat parameter's, or (``use_orig_params``) one built from the
        original parameters' gradients, which the optimizer may have set to None or replaced."""
        if not self.use_orig_params:
            return self.flat_param.grad
        from ... import zeros
        grads = [(info, info.param.grad) for info in self.infos if info.param.grad is not None]
        if not grads:
            return None
        unsharded = any(tuple(g.shape) == info.shape and info.numel != self.shard_range(info)[1] -
                        self.shard_range(info)[0] for info, g in grads) or not self.sharded
        if unsharded:
            result = zeros(self.unpadded_numel, dtype=self.flat_param.dtype, device=self.flat_param.device)
            for info, grad in grads:
                result[info.offset:info.offset + info.numel] = grad.detach().reshape(-1)
            return result
        result = zeros(self.shard_numel, dtype=self.flat_param.dtype, device=self.flat_param.device)
        for info, grad in grads:
            start, end = self.shard_range(info)
            result[start - self.shard_start:end - self.shard_start] = grad.detach().reshape(-1)
        return result

    def _set_grad(self, grad, unsharded):
        """Stores ``grad`` as the flat parameter's gradient and (``use_orig_params``) each original parameter's
        gradient as a view of it: whole-shaped when unsharded, else the part in this rank's shard (None where that
        part is empty). The gradient's size may differ from its parameter's (a shard's or a whole one), which
        ``.grad``'s assignment refuses, so it is stored directly (PyTorch's FSDP swaps ``.data`` to the same end)."""
        self.flat_param.__dict__["grad"] = grad
        if not self.use_orig_params:
            return
        for info in self.infos:
            if not info.param.requires_grad:   # a frozen parameter (use_orig_params permits them) gets none
                info.param.grad = None
                continue
            if unsharded or not self.sharded:
                info.param.__dict__["grad"] = grad[info.offset:info.offset + info.numel].view(info.shape)
                continue
            start, end = self.shard_range(info)
            info.param.__dict__["grad"] = grad[start - self.shard_start:end - self.shard_start] if end > start else None

    def reduce_grad(self, grad):
        """After backward reached the unsharded flat parameter: under ``no_sync`` accumulates the unsharded gradient
        locally; otherwise reduce-scatters it (all-reduces with ``NO_SHARD``; a hybrid strategy then all-reduces the
        shard across replicas) in the reduce dtype, averaged over the data-parallel ranks as PyTorch divides (before
        and after the collectives), into the shard's gradient."""
        with no_grad():
            grad = grad.detach()
            existing = self._current_grad()
            if not self.sharded:
                self._reduce_no_shard(grad, existing)
                return
            unsharded_existing = existing is not None and existing.numel() == self.unpadded_numel and \
                self.unpadded_numel != self.shard_numel
            if existing is not None and not unsharded_existing:
                self._saved_grad_shard = existing if self._saved_grad_shard is None else \
                    self._saved_grad_shard + existing
                existing = None
            if not self.state._sync_gradients:
                unsharded = grad[:self.unpadded_numel].to(self.flat_param.dtype)
                self._reshard()
                self._set_grad(unsharded if existing is None else existing + unsharded, True)
                return
            if existing is not None:
                grad = grad.clone()
                grad[:self.unpadded_numel] += existing
            state = self.state
            reduce_dtype = state._reduce_dtype or grad.dtype
            padded = grad.to(reduce_dtype, copy=True)
            if state._gradient_predivide_factor > 1:
                padded.div_(state._gradient_predivide_factor)
            from ... import empty
            sharded = empty(self.shard_numel, dtype=reduce_dtype, device=grad.device)
            dist.reduce_scatter_single(sharded, padded, group=self.group)
            if state._inter_node_pg is not None and state.sharding_strategy != ShardingStrategy.NO_SHARD:
                dist.all_reduce(sharded, group=state._inter_node_pg)   # hybrid: the sum across the replicas
            if state._gradient_postdivide_factor > 1:
                sharded.div_(state._gradient_postdivide_factor)
            sharded = sharded.to(self.flat_param.dtype)
            if self._saved_grad_shard is not None:
                sharded = self._saved_grad_shard + sharded
                self._saved_grad_shard = None
            self._set_grad(sharded, False)
        self._reshard()   # backward is done with the unit

    def _reduce_no_shard(self, grad, existing):
        self._reshard()
        grad = grad.to(self.flat_param.dtype) if existing is None else existing + grad
        if self.state._sync_gradients:
            state = self.state
            reduce_dtype = state._reduce_dtype or grad.dtype
            grad = grad.to(reduce_dtype, copy=True)
            if state._gradient_predivide_factor > 1:
                grad.div_(state._gradient_predivide_factor)
            dist.all_reduce(grad, group=self.group)
            if state._gradient_postdivide_factor > 1:
                grad.div_(state._gradient_postdivide_factor)
            grad = grad.to(self.flat_param.dtype)
        self._set_grad(grad, False)

    # --- whole parameters outside forward (summon_full_params, full state dicts) ------------------------
    def enter_full(self, register=True, with_grads=False):
        """All-gathers the flat parameter in its own dtype and makes the original parameters whole ``Parameter``s
        over it (with ``register``), registered in their modules as before wrapping."""
        full = self.unshard()
        self._full, self._summoned = full, register
        grad_full = None
        if with_grads and self.use_orig_params:
            from ... import tensor, zeros
            grad = self._current_grad()
            having = tensor([int(grad is not None)], device=self.flat_param.device)
            if self.sharded:
                dist.all_reduce(having, group=self.group)
            if having.item():   # some rank has a gradient: the others gather zeros
                if grad is None:
                    grad = zeros(self.shard_numel, dtype=self.flat_param.dtype, device=self.flat_param.device)
                grad_full = self._gather_grad(grad)
        if not register:
            return
        views = self._views(full)
        if self.use_orig_params:
            for info, view in zip(self.infos, views):
                info.param.data = view
                info.module.__dict__.pop(info.name, None)
                if grad_full is not None:
                    info.param.grad = grad_full[info.offset:info.offset + info.numel].view(info.shape)
            self._summoned_grads = grad_full is not None
            return
        del self.module._parameters["_flat_param"]
        for info, view in zip(self.infos, views):
            info.module.__dict__.pop(info.name, None)
            info.module._parameters[info.name] = Parameter(view, requires_grad=self.flat_param.requires_grad)
        for sub, name, info in self.shared:
            sub.__dict__.pop(name, None)
            sub._parameters[name] = info.module._parameters[info.name]

    def _gather_grad(self, grad):
        """The unsharded gradient of the flat parameter (None where there is none)."""
        if grad is None or not self.sharded or grad.numel() != self.shard_numel:
            return grad
        from ... import empty
        full = empty(self.padded_numel, dtype=grad.dtype, device=grad.device)
        dist.all_gather_single(full, grad.contiguous(), group=self.group)
        return full

    def exit_full(self, writeback):
        """Copies this rank's part of the whole tensor back into the shard (with ``writeback``) and reshards."""
        full, self._full = self._full, None
        if writeback and full is not None:
            with no_grad():
                end = min(self.shard_start + self.shard_numel, self.unpadded_numel)
                if end > self.shard_start:
                    self.flat_param.detach()[:end - self.shard_start].copy_(full[self.shard_start:end])
        if not self._summoned:
            return
        self._summoned = False
        if self.use_orig_params:
            self._use_sharded_views()
            grad = self.flat_param.grad
            if grad is not None:   # the gradients summoned whole become shard views again
                self._set_grad(grad, grad.numel() != self.shard_numel)
            elif self._summoned_grads:
                for info in self.infos:
                    info.param.grad = None
            self._summoned_grads = False
            return
        for info in self.infos:
            del info.module._parameters[info.name]
        for sub, name, _ in self.shared:
            del sub._parameters[name]
        self.module.register_parameter("_flat_param", self.flat_param)
        self._reshard()
