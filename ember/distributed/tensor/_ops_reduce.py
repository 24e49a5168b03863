"""Sharding rules of reductions (``sum``, ``mean``, ``amax``/``amin``, ``max``/``min`` of all elements, vector norms),
as PyTorch's: the local parts reduced, a reduced dim's shard leaving a Partial of the reduction's kind (norms a
``_NormPartial``), partial inputs of another kind reduced first. Gradients of a partial result are the whole's:
each part's share of an average, 1 or 0 for an extreme (ties shared), (part / whole)^(p - 1) for a p-norm. Scans
(``cumsum``, ``cumprod``, ``logcumsumexp``) gather the dim they run along."""
import inspect
import math

from ... import overrides
from ..._tensor import Size, _make
from ...autograd.function import Function
from ...autograd.grad_mode import state as grad_state
from ._dtensor import DTensorSpec, _new, contiguous_stride
from ._local import local_part, no_rule, run, wrap
from ._redistribute import reduce
from ._ops_pointwise import along
from .placement_types import Partial, Replicate, _NormPartial, _StridedShard

REDUCTIONS = frozenset("sum mean amax amin max min vector_norm norm".split())
SCANS = frozenset("cumsum cumprod logcumsumexp".split())

_PARTIAL_OF = {"sum": "sum", "mean": "sum", "amax": "max", "max": "max", "amin": "min", "min": "min"}


def reduction(name, inner, args, kwargs):
    """A reduction by PyTorch's strategy: a shard of a reduced dim becomes partial values (a norm's, an extreme's, a
    sum's; an even mean's an average), other shards move to their dim's place in the output."""
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
    norm = name in ("vector_norm", "norm")
    if norm:   # (PyTorch's infinite norms are a max or min of the parts)
        partial = Partial("max") if order == float("inf") else Partial("min") if order == -float("inf") else \
            _NormPartial(order)
    else:
        partial = Partial(_PARTIAL_OF[name])
    placements = []
    for placement in self.placements:
        if placement.is_partial() and (isinstance(placement, _NormPartial) or
                                       placement.reduce_op != {"sum": "sum", "mean": "avg"}.get(name)):
            placement = Replicate()
        if isinstance(placement, _StridedShard) and name == "mean" and placement.dim in reduced:   # (uneven chunks)
            placement = Replicate()
        placements.append(placement)
    out_placements = []
    for placement in placements:
        sharded = placement.is_shard() or isinstance(placement, _StridedShard)
        if sharded and placement.dim in reduced:
            out_placements.append(partial)
        elif sharded and not keepdim:
            out_placements.append(along(placement, placement.dim - sum(1 for d in reduced if d < placement.dim)))
        else:
            out_placements.append(placement)
    shape = tuple(1 if d in reduced else size for d, size in enumerate(self.shape) if keepdim or d not in reduced)
    spec = DTensorSpec(self.device_mesh, tuple(out_placements), Size(shape), contiguous_stride(shape))
    if name == "mean":   # an average of even shards is their averages' average; uneven ones are gathered first
        for mesh_dim, placement in enumerate(placements):
            if placement.is_shard() and placement.dim in reduced and \
                    self.shape[placement.dim] % self.device_mesh.size(mesh_dim):
                placements[mesh_dim] = out_placements[mesh_dim] = Replicate()
            elif placement.is_shard() and placement.dim in reduced:
                out_placements[mesh_dim] = Partial("avg")
        spec = spec.with_placements(tuple(out_placements))
    local = self if tuple(placements) == self.placements else self.redistribute(self.device_mesh, placements)
    if local._data.size == 0 and partial.reduce_op in ("max", "min") and self.numel():
        return _empty_extreme(local, partial, spec, norm)
    reducing = [i for i, (p, out) in enumerate(zip(placements, out_placements)) if not p.is_partial() and
                out.is_partial()]
    if not (reducing and grad_state.enabled and local.requires_grad) or out_placements[reducing[0]] == Partial():
        return run(inner, (local,) + tuple(args[1:]), kwargs, {}, spec)
    with overrides.DisableTorchFunctionSubclass():
        part = inner(local_part(local, None, spec.placements), *args[1:], **kwargs)
    from ..._backend import xp_of
    factor = _whole_gradient(xp_of(local._data).asarray(part._data), spec, reducing)
    return wrap(_ScaledGradient.apply(part, factor), spec)


def _whole_gradient(part, spec, mesh_dims):
    """The derivative of a reduction's whole by this rank's ``part`` of it, partial on ``mesh_dims`` (the same
    placement on each): an average's share, 1 or 0 for a max or min (ties shared among the ranks holding them), a
    p-norm's (part / whole)^(p - 1). (The local op's own gradient is the part's by its elements.)"""
    from ..._backend import xp_of
    xp, mesh, placement = xp_of(part), spec.mesh, spec.placements[mesh_dims[0]]
    if placement.reduce_op == "avg":
        return 1 / math.prod(mesh.size(i) for i in mesh_dims)
    if getattr(placement, "norm_type", None) in (0, 1):
        return 1
    whole = part
    for i in mesh_dims:
        whole = reduce(whole, placement, mesh.get_group(i))
    if placement.reduce_op in ("max", "min"):
        holds = xp.asarray(part == whole, dtype=part.dtype)
        count = holds
        for i in mesh_dims:
            count = reduce(count, Partial("sum"), mesh.get_group(i))
        return _make(xp.asarray(holds / xp.maximum(count, 1), dtype=part.dtype))
    p = placement.norm_type
    with xp.errstate(divide="ignore", invalid="ignore"):
        return _make(xp.asarray(xp.where(whole == 0, 0, (part / whole) ** (p - 1)), dtype=part.dtype))


class _ScaledGradient(Function):
    """The identity, whose gradient is scaled by ``factor``."""

    @staticmethod
    def forward(ctx, tensor, factor):
        ctx.factor = factor
        return _make(tensor._data)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.factor, None


def _empty_extreme(dtensor, partial, spec, norm):
    """A max or min over a shard with no elements (a norm's: 0): the reduction's identity, so the other parts
    decide."""
    from ..._backend import xp_of
    array = dtensor._data
    xp = xp_of(array)
    shape = spec.local_shape()
    if norm:
        return _new(xp.zeros(shape, array.dtype), spec)
    value = -xp.inf if partial.reduce_op == "max" else xp.inf
    return _new(xp.full(shape, value, array.dtype), spec)


def scan(name, inner, args, kwargs):
    """A running sum, product or log-sum-exp along a dim, as PyTorch's scan strategy: that dim's shard gathered
    first, partial values reduced first, other shards kept."""
    self = args[0]
    bound = inspect.signature(inner).bind(*args, **kwargs)
    dim = bound.arguments["dim"] % max(self.ndim, 1)
    placements = tuple(Replicate() if p.is_partial() or (isinstance(p, _StridedShard) or p.is_shard()) and p.dim == dim
                       else p for p in self.placements)
    return run(inner, args, kwargs, {id(self): placements}, self._spec.with_placements(placements))
