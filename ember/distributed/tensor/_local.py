"""Running an op on DTensors' local parts, the steps every sharding rule shares: the DTensor arguments laid out as
the rule wants (``local_part``, connected to autograd so gradients come back laid out as PyTorch's), the op on the
parts, its tensors wrapped as DTensors of the rule's output spec (``wrap``), and PyTorch's errors for operands a rule
cannot take."""
from ... import overrides
from ..._tensor import Size, Tensor, _make
from ...autograd.grad_mode import no_grad, state as grad_state
from ._dtensor import DTensor, DTensorSpec, _FromLocal, _new, _ToLocal, contiguous_stride
from ._redistribute import normalized
from .placement_types import Partial, Replicate, _StridedShard


def no_rule(name, args, kwargs):
    """PyTorch's error for an op without a sharding strategy, naming the DTensor arguments' placements."""
    shown = ", ".join(f"{tuple(d.shape)}{d.placements}" for d in dtensor_args(args, kwargs))
    return NotImplementedError(f"Operator aten.{name}.default does not have a sharding strategy registered. (ember's "
                               f"DTensor has no rule for it; DTensor arguments: {shown})")


def mixed(name, overload="default"):
    """PyTorch's error for an op given plain tensors beside DTensors."""
    return RuntimeError(f"aten.{name}.{overload} got mixed torch.Tensor and DTensor, need to convert all torch.Tensor "
                        "to DTensor before calling distributed operators!")


def require_dtensors(name, operands, overload="default"):
    """Raises PyTorch's error unless every tensor operand of ``name`` is a DTensor."""
    if not all(isinstance(t, DTensor) for t in operands):
        raise mixed(name, overload)


def unstrided(value, kept=()):
    """``value`` (args, kwargs, lists) with each DTensor's ``_StridedShard`` mesh dimensions (but those in ``kept``)
    gathered to Replicate, for the rules that know only Shard, Replicate and Partial."""
    if isinstance(value, DTensor) and any(isinstance(p, _StridedShard) and i not in kept
                                          for i, p in enumerate(value.placements)):
        placements = [Replicate() if isinstance(p, _StridedShard) and i not in kept else p
                      for i, p in enumerate(value.placements)]
        return value.redistribute(value.device_mesh, placements)
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(unstrided(v) for v in value)
    if isinstance(value, dict):
        return {k: unstrided(v) for k, v in value.items()}
    return value


def dtensor_args(args, kwargs):
    """The DTensors among ``args`` and ``kwargs`` (also inside lists and tuples)."""
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


def local_part(dtensor, placements, out_placements=None):
    """``dtensor``'s local part once laid out by ``placements`` (a Replicate mesh dim may become Partial: each
    rank's share, as PyTorch's), connected to the graph where it needs grad. The part's gradient is laid out as
    an op giving ``out_placements`` makes it: a replicated operand of an output sharded or partial on a mesh dim
    gets partial sums there; a leaf receives its gradient laid out as itself."""
    placements = dtensor.placements if placements is None else tuple(placements)
    partitioned = [i for i, (p, q) in enumerate(zip(dtensor.placements, placements)) if q.is_partial() and p != q]
    for i in partitioned:
        if not dtensor.placements[i].is_replicate():
            raise RuntimeError(f"Can not redistribute from {dtensor.placements[i]} to {placements[i]}")
    between = tuple(p if i in partitioned else q for i, (p, q) in enumerate(zip(dtensor.placements, placements)))
    if between != dtensor.placements:
        dtensor = dtensor.redistribute(dtensor.device_mesh, between)
    mesh = dtensor.device_mesh
    if grad_state.enabled and dtensor.requires_grad:   # (a share's gradient is a share of the whole's)
        grads = tuple(Partial(placements[i].reduce_op) if i in partitioned else p
                      for i, p in enumerate(_grad_placements(placements, out_placements)))
        deliver = normalized(dtensor.placements) if dtensor.grad_fn is None else None
        local = _ToLocal.apply(dtensor, grads, deliver)
    else:
        local = _make(dtensor._data)
    for i in partitioned:
        if placements[i].reduce_op == "sum":
            local = local / mesh.size(i)
    return local


def _grad_placements(placements, out_placements):
    """How the gradient of an operand's local part laid out by ``placements`` is laid out, for an op whose output
    is laid out by ``out_placements``."""
    if out_placements is None:
        return tuple(Replicate() if p.is_partial() else p for p in placements)
    made = []
    for p, out in zip(placements, out_placements):
        if p.is_partial():
            made.append(Replicate())
        elif p.is_replicate() and not out.is_replicate():   # summed over the ranks' parts (averaged for an average)
            made.append(Partial("avg" if out.is_partial("avg") else "sum"))
        else:
            made.append(p)
    return tuple(made)


def wrap(result, spec):
    """``result``'s tensors (in lists and tuples too) as DTensors of ``spec``, in the graph where they need grad."""
    if isinstance(result, Tensor):
        if result.requires_grad:
            return _FromLocal.apply(result, spec)
        return _new(result._data, spec)
    if isinstance(result, (list, tuple)):
        wrapped = [wrap(item, spec) for item in result]
        return type(result)._make(wrapped) if hasattr(type(result), "_make") else type(result)(wrapped)
    return result


def run(inner, args, kwargs, targets, out_spec, shape_of=None):
    """Calls ``inner`` on the local parts of the DTensor arguments, each first laid out by ``targets[id]``, and
    returns its tensors as DTensors of ``out_spec`` (given ``shape_of``, their global shape is ``shape_of(local
    shape)``: ``out_spec``'s own is then unused)."""
    def convert(dtensor):
        return local_part(dtensor, targets.get(id(dtensor)), out_spec.placements)
    local_args = [_replace(a, convert) for a in args]
    local_kwargs = {k: _replace(v, convert) for k, v in kwargs.items()}
    with overrides.DisableTorchFunctionSubclass():
        result = inner(*local_args, **local_kwargs)
    if shape_of is not None:
        shape = tuple(shape_of((result[0] if isinstance(result, (tuple, list)) else result).shape))
        out_spec = DTensorSpec(out_spec.mesh, out_spec.placements, Size(shape), contiguous_stride(shape))
    return wrap(result, out_spec)


def check_operands(name, dtensors, args, kwargs, overload="Tensor"):
    """The mesh of ``dtensors``; PyTorch's error where they lie on different meshes or a plain tensor is given
    (naming aten ``name.overload``)."""
    mesh = dtensors[0].device_mesh
    for other in dtensors[1:]:
        if other.device_mesh != mesh:
            raise RuntimeError(f"aten.{name}.Tensor: DTensor does not support cross-mesh operation on "
                               f"{mesh} and {other.device_mesh}")
    for value in list(args) + list(kwargs.values()):
        for item in (value if isinstance(value, (list, tuple)) else (value,)):
            if isinstance(item, Tensor) and not isinstance(item, DTensor) and item.ndim > 0:
                raise mixed(name, overload)
    return mesh


def in_place_local(name, inner, args, kwargs, targets=None):
    """Runs in-place op ``inner`` on ``args[0]``'s local part, the other DTensor arguments first laid out by
    ``targets`` (none allowed without it); the DTensor keeps its placements."""
    self, dtensors = args[0], dtensor_args(args, kwargs)
    if targets is None and (len(dtensors) > 1 or any(p.is_partial() for p in self.placements)):
        raise no_rule(name, args, kwargs)
    if grad_state.enabled and any(d.requires_grad for d in dtensors):
        raise RuntimeError(f"ember's DTensor does not record in-place ops in autograd: call {name} under "
                           "torch.no_grad() or use its out-of-place form")
    with no_grad():
        local_self = _make(self._data)
        rest_args = [_replace(a, lambda d: local_part(d, targets[id(d)])) for a in args[1:]]
        rest_kwargs = {k: _replace(v, lambda d: local_part(d, targets[id(d)])) for k, v in kwargs.items()}
        with overrides.DisableTorchFunctionSubclass():
            inner(local_self, *rest_args, **rest_kwargs)
    self._data = local_self._data
    self._version_counter[0] += 1
    return self
