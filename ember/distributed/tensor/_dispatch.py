"""Ops on DTensors: every public call with a DTensor argument arrives here (``DTensor.__torch_function__``). A
sharding rule picks the placements the inputs must have and the output will have; the inputs are redistributed
where needed, the op runs on the local parts, and its tensors come back as DTensors. Autograd sees the conversions
(``to_local`` before, ``from_local`` after), so gradients are DTensors laid out as PyTorch's. An op without a rule
raises PyTorch's error for it rather than compute on the parts alone."""
import inspect

from ... import overrides
from ..._tensor import Size, Tensor, _make
from ...autograd.grad_mode import no_grad, state as grad_state
from ._dtensor import DTensor, DTensorSpec, _FromLocal, _new, _ToLocal, contiguous_stride
from .placement_types import Partial, Replicate, Shard, _NormPartial

_UNARY = """abs absolute acos arccos acosh arccosh asin arcsin asinh arcsinh atan arctan atanh arctanh bitwise_not
ceil cos cosh deg2rad digamma erf erfc erfinv exp exp2 expm1 fix floor frac i0 isfinite isinf isnan isneginf isposinf
lgamma log log10 log1p log2 logical_not logit nan_to_num neg negative positive rad2deg reciprocal relu round rsqrt
sgn sigmoid sign signbit sin sinc sinh sqrt square tan tanh trunc gelu silu mish softplus elu selu celu leaky_relu
hardtanh hardsigmoid hardswish relu6 threshold __neg__ __pos__ __abs__ __invert__""".split()
_BINARY = """add sub subtract mul multiply div divide true_divide floor_divide remainder fmod pow float_power atan2
arctan2 hypot copysign maximum minimum fmax fmin eq ne lt le gt ge greater greater_equal less less_equal not_equal
logical_and logical_or logical_xor bitwise_and bitwise_or bitwise_xor logaddexp logaddexp2 xlogy nextafter
clamp clip clamp_min clamp_max lerp addcmul addcdiv where masked_fill rsub __rsub__ __rtruediv__ __rdiv__ __pow__
__rpow__ __floordiv__ __rfloordiv__ __rmod__ __eq__ __and__ __or__ __xor__ __lshift__ __rshift__""".split()
POINTWISE = frozenset(_UNARY + _BINARY)
IDENTITY = frozenset("clone contiguous to type type_as float double half bfloat16 cpu cuda".split())
_LIKE = frozenset("zeros_like ones_like empty_like full_like".split())
_SCALAR_OUT = frozenset("item tolist __bool__ __float__ __int__ __index__ numpy".split())
_PASS = frozenset("""requires_grad_ retain_grad register_hook register_post_accumulate_grad_hook backward
is_floating_point is_complex element_size dim ndimension get_device data_ptr is_contiguous __format__""".split())
REDUCTIONS = frozenset("sum mean amax amin max min vector_norm norm".split())
RANDOM_FILLS = frozenset("uniform_ normal_ random_ bernoulli_ exponential_ geometric_ cauchy_ log_normal_".split())


def op_name(func):
    """``func``'s PyTorch name without its namespace: "add", "add_", "__rsub__", "data" for a property."""
    full = overrides._names.get(func) or getattr(func, "__name__", str(func))
    parts = full.split(".")
    return parts[-2] if parts[-1] == "__get__" else parts[-1]


def no_rule(name, args, kwargs):
    """PyTorch's error for an op without a sharding strategy, naming the DTensor arguments' placements."""
    shown = ", ".join(f"{tuple(d.shape)}{d.placements}" for d in _dtensors(args, kwargs))
    return NotImplementedError(f"Operator aten.{name}.default does not have a sharding strategy registered. (ember's "
                               f"DTensor has no rule for it; DTensor arguments: {shown})")


def dispatch(func, args, kwargs):
    """Runs public function ``func`` on DTensor arguments by its sharding rule."""
    name = op_name(func)
    inner = overrides.unwrapped(func)
    if name in _PASS or ".nn.init." in overrides._names.get(func, ""):
        return inner(*args, **kwargs)   # (nn.init's fillers: their tensor methods come back here one by one)
    if name in RANDOM_FILLS:   # as PyTorch's on a CPU mesh: each rank draws its own part from its generator
        return _in_place_local(name, inner, args, kwargs)
    if name in ("detach", "data"):
        self = args[0]
        return _new(self._data, self._spec)
    if name.startswith("_foreach_"):
        return _foreach(name, args, kwargs)
    base = name[:-1] if name.endswith("_") and not name.endswith("__") else name
    inplace = base != name or name.startswith("__i")
    if base in POINTWISE or base in IDENTITY or name in ("copy_", "zero_", "fill_"):
        return _pointwise(name, base, inner, args, kwargs, inplace)
    if name in _LIKE:
        self = args[0]
        placements = tuple(Replicate() if p.is_partial() and name != "zeros_like" else p for p in self.placements)
        return _run(inner, args, kwargs, {id(self): placements}, self._spec.with_placements(placements))
    if name in REDUCTIONS:
        return _reduction(name, inner, args, kwargs)
    if name == "stack":
        return _stack(inner, args, kwargs)
    if name in _PERMUTING or name in _RESHAPING:
        return _shape_op(name, inner, args, kwargs)
    if name in _SCALAR_OUT:   # as PyTorch's: the local part's values, a partial one unreduced
        return inner(_make(args[0]._data), *args[1:], **kwargs)
    raise no_rule(name, args, kwargs)


# --- running on the local parts --------------------------------------------------------------------------------

def _dtensors(args, kwargs):
    found = []
    for value in list(args) + list(kwargs.values()):
        for item in (value if isinstance(value, (list, tuple)) else (value,)):
            if isinstance(item, DTensor):
                found.append(item)
    return found


def _replace(value, convert):
    if isinstance(value, DTensor):
        return convert(value)
    if isinstance(value, (list, tuple)) and any(isinstance(item, DTensor) for item in value):
        return type(value)(convert(item) if isinstance(item, DTensor) else item for item in value)
    return value


def _local(dtensor, placements):
    """``dtensor``'s local part once laid out by ``placements``, connected to the graph where it needs grad."""
    if placements is not None and tuple(placements) != dtensor.placements:
        dtensor = dtensor.redistribute(dtensor.device_mesh, placements)
    if grad_state.enabled and dtensor.requires_grad:
        return _ToLocal.apply(dtensor, None)
    return _make(dtensor._data)


def _wrap(result, spec):
    if isinstance(result, Tensor):
        if result.requires_grad:
            return _FromLocal.apply(result, spec)
        return _new(result._data, spec)
    if isinstance(result, (list, tuple)):
        wrapped = [_wrap(item, spec) for item in result]
        return type(result)._make(wrapped) if hasattr(type(result), "_make") else type(result)(wrapped)
    return result


def _run(inner, args, kwargs, targets, out_spec):
    """Calls ``inner`` on the local parts of the DTensor arguments, each first laid out by ``targets[id]``, and
    returns its tensors as DTensors of ``out_spec``."""
    def convert(dtensor):
        return _local(dtensor, targets.get(id(dtensor)))
    local_args = [_replace(a, convert) for a in args]
    local_kwargs = {k: _replace(v, convert) for k, v in kwargs.items()}
    with overrides.DisableTorchFunctionSubclass():
        result = inner(*local_args, **local_kwargs)
    return _wrap(result, out_spec)


def _check_operands(name, dtensors, args, kwargs):
    mesh = dtensors[0].device_mesh
    for other in dtensors[1:]:
        if other.device_mesh != mesh:
            raise RuntimeError(f"aten.{name}.Tensor: DTensor does not support cross-mesh operation on "
                               f"{mesh} and {other.device_mesh}")
    for value in list(args) + list(kwargs.values()):
        for item in (value if isinstance(value, (list, tuple)) else (value,)):
            if isinstance(item, Tensor) and not isinstance(item, DTensor) and item.ndim > 0:
                raise RuntimeError(f"aten.{name}.Tensor got mixed torch.Tensor and DTensor, need to convert all "
                                   "torch.Tensor to DTensor before calling distributed operators!")
    return mesh


# --- pointwise ops ---------------------------------------------------------------------------------------------

def _broadcast_shape(shapes):
    ndim = max((len(s) for s in shapes), default=0)
    out = [1] * ndim
    for shape in shapes:
        for i, size in enumerate(shape, ndim - len(shape)):
            if size != 1:
                out[i] = size
    return tuple(out)


def _keeps_partial(base, dtensors, args, kwargs, placement):
    """Whether ``base`` applied to partial values of ``placement`` gives the partial values of the result."""
    if base in IDENTITY or base in ("neg", "negative", "positive", "__neg__", "__pos__", "copy", "zero", "detach"):
        return True
    if placement.reduce_op not in ("sum", "avg") or isinstance(placement, _NormPartial):
        return False
    partial = [d for d in dtensors if d.placements.count(placement)]
    plain_tensors = [a for a in list(args) + list(kwargs.values()) if isinstance(a, Tensor) and not
                     isinstance(a, DTensor)]
    if base in ("add", "sub", "subtract"):
        numbers = [a for a in args[1:] if not isinstance(a, Tensor)]
        return len(partial) == len(dtensors) == 2 and not numbers and not plain_tensors
    if base in ("mul", "multiply", "div", "divide", "true_divide"):
        return len(partial) == 1 and (base in ("mul", "multiply") or partial[0] is args[0])
    return False


def _pointwise(name, base, inner, args, kwargs, inplace):
    if name == "copy_" and not isinstance(args[1], DTensor):
        raise RuntimeError("aten.copy_.default got mixed torch.Tensor and DTensor, need to convert all torch.Tensor "
                           "to DTensor before calling distributed operators!")
    dtensors = _dtensors(args, kwargs)
    mesh = _check_operands(base, dtensors, args, kwargs)
    self = args[0] if isinstance(args[0], DTensor) else None
    if inplace and self is None:
        raise RuntimeError(f"aten.{name}.Tensor got mixed torch.Tensor and DTensor, need to convert all torch.Tensor "
                           "to DTensor before calling distributed operators!")
    shapes = [tuple(d.shape) for d in dtensors] + [tuple(a.shape) for a in list(args) + list(kwargs.values())
                                                    if isinstance(a, Tensor) and not isinstance(a, DTensor)]
    out_shape = tuple(self.shape) if inplace else _broadcast_shape(shapes)
    out_placements = []
    for mesh_dim in range(mesh.ndim):
        if inplace:
            placement = self.placements[mesh_dim]
            if placement.is_partial() and not _keeps_partial(base, dtensors, args, kwargs, placement):
                raise RuntimeError(f"aten.{name}: in-place op on a DTensor with placement {placement} would need to "
                                   "change its placement; redistribute it to Replicate() first")
            out_placements.append(placement)
            continue
        out_placements.append(_output_placement(base, dtensors, args, kwargs, mesh_dim, out_shape))
    targets = {id(d): _input_placements(d, out_placements, out_shape) for d in dtensors}
    spec = DTensorSpec(mesh, tuple(out_placements), Size(out_shape), contiguous_stride(out_shape))
    if not inplace:
        return _run(inner, args, kwargs, targets, spec)
    return _in_place_local(name, inner, args, kwargs, targets)


def _in_place_local(name, inner, args, kwargs, targets=None):
    """Runs in-place op ``inner`` on ``args[0]``'s local part, the other DTensor arguments first laid out by
    ``targets`` (none allowed without it); the DTensor keeps its placements."""
    self, dtensors = args[0], _dtensors(args, kwargs)
    if targets is None and (len(dtensors) > 1 or any(p.is_partial() for p in self.placements)):
        raise no_rule(name, args, kwargs)
    if grad_state.enabled and any(d.requires_grad for d in dtensors):
        raise RuntimeError(f"ember's DTensor does not record in-place ops in autograd: call {name} under "
                           "torch.no_grad() or use its out-of-place form")
    with no_grad():
        local_self = _make(self._data)
        rest_args = [_replace(a, lambda d: _local(d, targets[id(d)])) for a in args[1:]]
        rest_kwargs = {k: _replace(v, lambda d: _local(d, targets[id(d)])) for k, v in kwargs.items()}
        with overrides.DisableTorchFunctionSubclass():
            inner(local_self, *rest_args, **rest_kwargs)
    self._data = local_self._data
    self._version_counter[0] += 1
    return self


def _output_placement(base, dtensors, args, kwargs, mesh_dim, out_shape):
    for d in dtensors:
        placement = d.placements[mesh_dim]
        if placement.is_shard():
            out_dim = placement.dim + len(out_shape) - d.ndim
            if d.shape[placement.dim] == out_shape[out_dim]:
                return Shard(out_dim)
    partials = {d.placements[mesh_dim] for d in dtensors if d.placements[mesh_dim].is_partial()}
    if len(partials) == 1:
        placement = partials.pop()
        if _keeps_partial(base, dtensors, args, kwargs, placement):
            return placement
    return Replicate()


def _input_placements(dtensor, out_placements, out_shape):
    """What ``dtensor`` must be laid out as for a pointwise op giving ``out_placements``."""
    made = []
    for mesh_dim, out in enumerate(out_placements):
        current = dtensor.placements[mesh_dim]
        if out.is_shard():
            dim = out.dim - (len(out_shape) - dtensor.ndim)
            made.append(Shard(dim) if dim >= 0 and dtensor.shape[dim] == out_shape[out.dim] else Replicate())
        elif out.is_partial():
            made.append(current if current.is_partial() else Replicate())
        else:
            made.append(Replicate())
    return tuple(made)


def _foreach(name, args, kwargs):
    """``torch._foreach_<op>`` on lists of DTensors: the op on each index in turn, by its own rule."""
    import ember
    base = name[len("_foreach_"):]
    lists = [a for a in args if isinstance(a, (list, tuple))]
    count = len(lists[0]) if lists else 0
    results = []
    for i in range(count):
        items = [a[i] if isinstance(a, (list, tuple)) else a for a in args]
        if base == "norm":
            results.append(ember.linalg.vector_norm(items[0], *items[1:], **kwargs))
        elif base.endswith("_"):
            method = getattr(items[0], base, None)
            if method is None:
                raise no_rule(name, args, kwargs)
            method(*items[1:], **kwargs)
        else:
            function = getattr(ember, base, None)
            if function is None:
                raise no_rule(name, args, kwargs)
            results.append(function(*items, **kwargs))
    return None if base.endswith("_") else results


# --- reductions ------------------------------------------------------------------------------------------------

_PARTIAL_OF = {"sum": "sum", "mean": "sum", "amax": "max", "max": "max", "amin": "min", "min": "min"}


def _reduction(name, inner, args, kwargs):
    self = args[0]
    bound = inspect.signature(inner).bind(*args, **kwargs)
    bound.apply_defaults()
    given = dict(bound.arguments)
    dim = given.get("dim", given.get("axis"))
    if name in ("max", "min") and dim is not None:
        raise no_rule(f"{name}.dim", args, kwargs)
    keepdim = bool(given.get("keepdim", False))
    ndim = self.ndim
    if dim is None or dim == () or dim == []:
        reduced = set(range(ndim))
    else:
        reduced = {d % max(ndim, 1) for d in (dim if isinstance(dim, (list, tuple)) else (dim,))}
    order = given.get("ord", given.get("p", 2))
    if name == "norm" and not isinstance(order, (int, float)):
        raise no_rule(f"norm.{order}", args, kwargs)
    partial = _NormPartial(order) if name in ("vector_norm", "norm") else Partial(_PARTIAL_OF[name])
    placements = []
    for placement in self.placements:
        if placement.is_partial() and not (name == "sum" and placement == Partial("sum")):
            placement = Replicate()
        placements.append(placement)
    out_placements = []
    for placement in placements:
        if placement.is_shard() and placement.dim in reduced:
            out_placements.append(partial)
        elif placement.is_shard() and not keepdim:
            out_placements.append(Shard(placement.dim - sum(1 for d in reduced if d < placement.dim)))
        else:
            out_placements.append(placement)
    shape = tuple(1 if d in reduced else size for d, size in enumerate(self.shape) if keepdim or d not in reduced)
    spec = DTensorSpec(self.device_mesh, tuple(out_placements), Size(shape), contiguous_stride(shape))
    if name == "mean":
        count = 1
        for d in reduced:
            count *= self.shape[d]
        import ember
        total = _reduction("sum", overrides.unwrapped(ember.sum), (self,) + tuple(args[1:]), kwargs)
        return (total / count).redistribute(self.device_mesh, [Replicate()] * self.device_mesh.ndim)
    local = self if tuple(placements) == self.placements else self.redistribute(self.device_mesh, placements)
    if local._data.size == 0 and partial.reduce_op in ("max", "min") and self.numel():
        return _empty_extreme(local, partial, spec)
    return _run(inner, (local,) + tuple(args[1:]), kwargs, {}, spec)


def _empty_extreme(dtensor, partial, spec):
    """A max or min over a shard with no elements: the reduction's identity, so the other parts decide."""
    from ..._backend import xp_of
    array = dtensor._data
    xp = xp_of(array)
    shape = spec.local_shape()
    if isinstance(partial, _NormPartial):
        return _new(xp.zeros(shape, array.dtype), spec)
    value = -xp.inf if partial.reduce_op == "max" else xp.inf
    return _new(xp.full(shape, value, array.dtype), spec)


def _stack(inner, args, kwargs):
    tensors = list(args[0])
    dtensors = [t for t in tensors if isinstance(t, DTensor)]
    mesh = _check_operands("stack", dtensors, args, kwargs)
    dim = kwargs.get("dim", args[1] if len(args) > 1 else 0)
    first = dtensors[0]
    dim = dim % (first.ndim + 1)
    placements = []
    for mesh_dim in range(mesh.ndim):
        kinds = {d.placements[mesh_dim] for d in dtensors}
        placement = kinds.pop() if len(kinds) == 1 else Replicate()
        if placement.is_partial() and placement.reduce_op not in ("max", "min"):
            placement = Replicate()
        placements.append(placement)
    out_placements = [Shard(p.dim + (p.dim >= dim)) if p.is_shard() else p for p in placements]
    shape = tuple(first.shape[:dim]) + (len(tensors),) + tuple(first.shape[dim:])
    spec = DTensorSpec(mesh, tuple(out_placements), Size(shape), contiguous_stride(shape))
    return _run(inner, args, kwargs, {id(d): tuple(placements) for d in dtensors}, spec)


# --- shape ops ---------------------------------------------------------------------------------------------------

_PERMUTING = frozenset("transpose swapaxes swapdims t T mT permute unsqueeze".split())
_RESHAPING = frozenset("view reshape flatten".split())


def _permutation(name, ndim, args, kwargs):
    """For each output dim, the input dim it comes from (None: a new dim of size 1)."""
    if name in ("transpose", "swapaxes", "swapdims"):
        dims = list(range(ndim))
        first, second = (d % ndim for d in (args + tuple(kwargs.values()))[1:3])
        dims[first], dims[second] = dims[second], dims[first]
        return dims
    if name == "t":
        return list(range(ndim))[::-1]
    if name == "T":
        return list(range(ndim))[::-1]
    if name == "mT":
        return list(range(ndim - 2)) + [ndim - 1, ndim - 2]
    if name == "unsqueeze":
        dim = (args[1] if len(args) > 1 else kwargs["dim"]) % (ndim + 1)
        return list(range(dim)) + [None] + list(range(dim, ndim))
    dims = args[1:] if len(args) > 2 or not isinstance(args[1], (list, tuple)) else args[1]
    return [d % ndim for d in kwargs.get("dims", dims)]


def _view_groups(in_shape, out_shape):
    """Input and output dims grouped where their sizes' products match, or None when they cannot be grouped."""
    groups, i, j = [], 0, 0
    while i < len(in_shape) or j < len(out_shape):
        ins, outs, left, right = [], [], 1, 1
        if i < len(in_shape):
            ins.append(i)
            left, i = in_shape[i], i + 1
        if j < len(out_shape):
            outs.append(j)
            right, j = out_shape[j], j + 1
        while left != right:
            if left < right and i < len(in_shape):
                ins.append(i)
                left, i = left * in_shape[i], i + 1
            elif right < left and j < len(out_shape):
                outs.append(j)
                right, j = right * out_shape[j], j + 1
            else:
                return None
        groups.append((ins, outs))
    return groups


def _shape_op(name, inner, args, kwargs):
    """Transposes, permutes and unsqueezes move a Shard to its dim's new place; views and reshapes keep one where
    the sharded dim maps to one output dim of its size (PyTorch also splits and merges evenly sharded dims)."""
    self = args[0]
    shape = tuple(self.shape)
    if name in _PERMUTING:
        order = _permutation(name, self.ndim, args, kwargs)
        out_shape = tuple(1 if d is None else shape[d] for d in order)
        moved = {d: k for k, d in enumerate(order) if d is not None}
        placements = tuple(Shard(moved[p.dim]) if p.is_shard() else p for p in self.placements)
        spec = DTensorSpec(self.device_mesh, placements, Size(out_shape), contiguous_stride(out_shape))
        return _run(inner, args, kwargs, {}, spec)
    with overrides.DisableTorchFunctionSubclass():   # the output's global shape, from a meta tensor of the input's
        from ... import empty
        out_shape = tuple(inner(empty(shape, device="meta"), *args[1:], **kwargs).shape)
    groups = _view_groups(shape, out_shape) or []
    placements = []
    for mesh_dim, placement in enumerate(self.placements):
        if placement.is_shard():
            group = next(((ins, outs) for ins, outs in groups if placement.dim in ins), None)
            if group is None or len(group[0]) != 1 or len(group[1]) != 1:
                size, parts = shape[placement.dim], self.device_mesh.size(mesh_dim)
                if group is not None and group[0][0] == placement.dim and size % parts:
                    raise RuntimeError(f"Cannot flatten unevenly sharded tensor: dimension {placement.dim} (size "
                                       f"{size}) is not evenly divisible by mesh dimension {mesh_dim} (size {parts}). "
                                       "Please redistribute the tensor before this operation.")
                raise no_rule(name, args, kwargs)
            placement = Shard(group[1][0])
        placements.append(placement)
    spec = DTensorSpec(self.device_mesh, tuple(placements), Size(out_shape), contiguous_stride(out_shape))
    local_shape = spec.local_shape()
    if name == "flatten":
        return _run(inner, args, kwargs, {}, spec)
    return _wrap(_ToLocal.apply(self, None).reshape(local_shape) if grad_state.enabled and self.requires_grad
                 else _make(self._data).reshape(local_shape), spec)
