"""``loss_parallel``: inside it, ``cross_entropy``, ``nll_loss`` and ``log_softmax`` of a DTensor sharded along the
class dimension (a ColwiseParallel output layer's logits over a vocabulary) run on the shards as PyTorch's do: the
log-softmax's max and sum of exponentials are all-reduced across the mesh dimension sharding the classes, each rank
picks the targets that fall in its own classes, and the picked values are summed across ranks. The logits are never
gathered; the loss is a replicated DTensor and its gradient flows back to the shards."""
import contextlib
import inspect

from .... import float32, full, where
from ...._tensor import Size
from ....autograd.grad_mode import no_grad
from ... import collectives
from ..._mpi import ReduceOp
from .. import _dispatch
from .._dtensor import DTensor
from .._redistribute import local_shape_and_offset
from ..placement_types import Partial, Replicate, Shard

__all__ = ["loss_parallel"]

_REDUCTIONS = ("none", "mean", "sum")


@contextlib.contextmanager
def loss_parallel():
    """Within it, cross-entropy (``F.cross_entropy``/``nn.CrossEntropyLoss``, ``nll_loss``, ``log_softmax``) of
    logits sharded on the class dimension is computed without gathering them; call ``backward`` inside too."""
    _dispatch.loss_parallel_handlers.append(_handle)
    try:
        yield
    finally:
        _dispatch.loss_parallel_handlers.remove(_handle)


def _handle(name, inner, args, kwargs):
    """``name``'s parallel form where its input is sharded on the class dimension; NotImplemented otherwise."""
    given = inspect.signature(inner).bind(*args, **kwargs)
    given.apply_defaults()
    given = given.arguments
    x = given["input"]
    if not isinstance(x, DTensor):
        return NotImplemented
    class_dim = 1 if x.ndim >= 2 else 0
    if name == "log_softmax":
        if given["dim"] is None or given["dim"] % x.ndim != class_dim:
            return NotImplemented
        return _log_softmax(x, class_dim, _mesh_dim(x.placements, class_dim), given["dtype"])
    reduction = _reduction(given)
    if name == "cross_entropy":
        mesh_dim = _mesh_dim(x.placements, class_dim)
        logp = _log_softmax(x, class_dim, mesh_dim, None)
        loss = _nll_loss(logp, given["target"], given["weight"], given["ignore_index"], reduction, mesh_dim)
        smoothing = given["label_smoothing"]
        if smoothing > 0:
            smooth = _smooth_loss(logp, given["target"], given["weight"], given["ignore_index"], reduction, mesh_dim)
            loss = loss * (1 - smoothing) + smooth * (smoothing / x.shape[class_dim])
        return loss
    return _nll_loss(x, given["target"], given["weight"], given["ignore_index"], reduction,
                     _mesh_dim(x.placements, class_dim))


def _reduction(given):
    from ....nn import _reduction as legacy
    reduction = given["reduction"]
    if given.get("size_average") is not None or given.get("reduce") is not None:
        reduction = legacy.legacy_get_string(given["size_average"], given["reduce"])
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _mesh_dim(placements, dim):
    """The one mesh dimension sharding tensor dim ``dim`` (PyTorch's ValueError otherwise)."""
    sharding = [i for i, p in enumerate(placements) if p.is_shard(dim)]
    if len(sharding) != 1:
        raise ValueError(f"loss_parallel() requires exactly one mesh dim to shard tensor dimension {dim}, but got "
                         f"placements {placements} with {len(sharding)} such mesh dim(s).")
    for i, p in enumerate(placements):
        if i != sharding[0] and not (p.is_shard() or p.is_replicate()):
            raise ValueError(f"loss_parallel() expects non-TP mesh dims to be Shard or Replicate, got {p} at dim "
                             f"{i}.")
    return sharding[0]


def _summed(local, mesh, placements, mesh_dim, used_by_shards=False):
    """``local`` summed across ``mesh_dim``, differentiably: each rank's part gets the sum's gradient, itself
    summed across ranks where each rank uses the sum on its own shard (``used_by_shards``)."""
    partial = tuple(Partial() if i == mesh_dim else p for i, p in enumerate(placements))
    whole = tuple(Replicate() if i == mesh_dim else p for i, p in enumerate(placements))
    total = DTensor.from_local(local, mesh, partial).redistribute(mesh, whole)
    return total.to_local(grad_placements=partial if used_by_shards else None)


def _log_softmax(x, dim, mesh_dim, dtype):
    """log_softmax along the sharded ``dim``: the max and the sum of exponentials taken over every rank's part."""
    mesh = x.device_mesh
    local = x.to_local()
    if dtype is not None:
        local = local.to(dtype)
    elif not local.is_floating_point():
        local = local.to(float32)
    with no_grad():
        if local.shape[dim] == 0:
            shape = list(local.shape)
            shape[dim] = 1
            peak = full(shape, float("-inf"), dtype=local.dtype, device=local.device)
        else:
            peak = local.amax(dim, keepdim=True)
        collectives.all_reduce(peak, op=ReduceOp.MAX, group=mesh.get_group(mesh_dim))
    shifted = local - peak
    total = _summed(shifted.exp().sum(dim, keepdim=True), mesh, x.placements, mesh_dim, True)
    result = shifted - total.log()
    return DTensor.from_local(result, mesh, x.placements, shape=x.shape, stride=x.stride())


def _class_range(x, dim):
    sizes, offsets = local_shape_and_offset(x.shape, x.device_mesh, x.placements)
    return offsets[dim], sizes[dim]


def _target_placements(placements, dim):
    """The target's layout: the input's without the class dimension."""
    made = []
    for p in placements:
        if p.is_shard(dim) or not p.is_shard():
            made.append(Replicate())
        else:
            made.append(Shard(p.dim - (p.dim > dim)))
    return tuple(made)


def _local_target(target, placements, mesh):
    if isinstance(target, DTensor):
        if target.placements != placements:
            raise RuntimeError(f"Expected {placements} but got {target.placements}.")
        return target.to_local()
    if any(p.is_shard() for p in placements):
        raise ValueError(f"loss_parallel() requires a DTensor (not a plain torch.Tensor) when the derived "
                         f"placements {placements} contain Shard — this happens on a multi-dimensional mesh with a "
                         "batch-sharded non-TP dim. Wrap the tensor with DTensor.from_local or distribute_tensor "
                         "to make the sharding explicit.")
    return target


def _whole_weight(weight):
    return weight.full_tensor() if isinstance(weight, DTensor) else weight


def _nll_loss(logp, target, weight, ignore_index, reduction, mesh_dim):
    """nll_loss of log-probabilities sharded on the class dim: each rank picks the targets in its classes."""
    mesh, dim = logp.device_mesh, 1 if logp.ndim >= 2 else 0
    out_placements = _target_placements(logp.placements, dim)
    target = _local_target(target, out_placements, mesh)
    local = logp.to_local()
    start, size = _class_range(logp, dim)
    valid = target != ignore_index
    safe = where(valid, target, 0)
    inside = (safe >= start) & (safe < start + size)
    if size:
        picked = local.gather(dim, where(inside, safe - start, 0).unsqueeze(dim)).squeeze(dim) * inside
    else:
        picked = local.sum(dim) * 0   # no classes here: nothing picked, still in the graph
    weight = _whole_weight(weight)
    if weight is not None:
        picked = picked * weight[safe]
    losses = where(valid, -_summed(picked, mesh, logp.placements, mesh_dim), 0)
    return _reduced(losses, valid, weight, safe, reduction, mesh, out_placements)


def _smooth_loss(logp, target, weight, ignore_index, reduction, mesh_dim):
    """Label smoothing's term: minus the (weighted) sum of the log-probabilities over the classes."""
    mesh, dim = logp.device_mesh, 1 if logp.ndim >= 2 else 0
    out_placements = _target_placements(logp.placements, dim)
    target = _local_target(target, out_placements, mesh)
    local = logp.to_local()
    weight = _whole_weight(weight)
    if weight is not None:
        start, size = _class_range(logp, dim)
        shape = [1] * local.ndim
        shape[dim] = size
        local = local * weight[start:start + size].reshape(shape)
    valid = target != ignore_index
    losses = where(valid, -_summed(local.sum(dim), mesh, logp.placements, mesh_dim), 0)
    return _reduced(losses, valid, weight, where(valid, target, 0), reduction, mesh, out_placements)


def _reduced(losses, valid, weight, safe, reduction, mesh, out_placements):
    if reduction == "none":
        return DTensor.from_local(losses, mesh, out_placements)
    total = losses.sum()
    if reduction == "mean":
        if mesh.ndim > 1:
            raise NotImplementedError("loss_parallel() with reduction='mean' is only supported on one-dimensional "
                                      f"DeviceMesh; got mesh with ndim={mesh.ndim}.")
        count = (weight[safe] * valid).sum() if weight is not None else valid.sum().to(losses.dtype)
        total = total / count
    placements = tuple(Partial() if p.is_shard() else Replicate() for p in out_placements)
    return DTensor.from_local(total, mesh, placements, shape=Size(()), stride=())
