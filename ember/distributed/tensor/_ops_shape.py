"""Sharding rules of ops that move dims: ``stack`` and ``cat`` (operands laid out alike), ``chunk``, ``split``,
``unbind`` and ``select`` (the dim they split gathered), ``expand`` and ``repeat`` (broadcast or repeated dims
gathered), ``pad`` (padded dims gathered), transposes, permutes, squeezes and unsqueezes (a shard follows its dim;
a squeezed one is refused), views and reshapes (as PyTorch's view rules: a shard kept where its dim
maps to one output dim of its size or leads a group of dims merged or split evenly, strided where its dim is merged
after others; gathered otherwise)."""
import inspect
import math

from ... import overrides
from ..._tensor import Size
from ._dtensor import DTensor, DTensorSpec, contiguous_stride
from ._local import check_operands, local_part, no_rule, require_dtensors, run, wrap
from ._ops_pointwise import along, copies_nothing
from .placement_types import Partial, Replicate, Shard, _StridedShard

PERMUTING = frozenset("transpose swapaxes swapdims t T mT permute unsqueeze".split())
RESHAPING = frozenset("view reshape flatten".split())
SPLITTING = frozenset("chunk split unbind select".split())
EXPANDING = frozenset(["expand"])
PADDING = frozenset(["pad", "constant_pad_nd"])


def stack(name, inner, args, kwargs):
    """``stack``: operands laid out alike (replicated where they differ, partial sums replicated), a shard past
    the new dim moved one on."""
    tensors = list(args[0])
    dtensors = [t for t in tensors if isinstance(t, DTensor)]
    mesh = check_operands(name, dtensors, args, kwargs)
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
    return run(inner, args, kwargs, {id(d): tuple(placements) for d in dtensors}, spec)


def cat(name, inner, args, kwargs):
    """Concatenation: a mesh dim on which an operand is sharded along another dim shards every operand so (the
    others' chunks are local, free); partial operands all alike stay partial; otherwise all are replicated."""
    tensors = list(args[0])
    require_dtensors(name, tensors)
    mesh = check_operands(name, tensors, args, kwargs)
    dim = kwargs.get("dim", kwargs.get("axis", args[1] if len(args) > 1 else 0)) % tensors[0].ndim
    placements = []
    for mesh_dim in range(mesh.ndim):
        kinds = [t.placements[mesh_dim] for t in tensors]
        sharded = [p for p in kinds if p.is_shard() and p.dim != dim]
        if sharded:
            placements.append(sharded[0])
        elif kinds[0].is_partial() and all(p == kinds[0] for p in kinds):
            placements.append(kinds[0])
        else:
            placements.append(Replicate())
    shape = list(tensors[0].shape)
    shape[dim] = sum(t.shape[dim] for t in tensors)
    spec = DTensorSpec(mesh, tuple(placements), Size(shape), contiguous_stride(shape))
    parts = [local_part(t, placements, placements) for t in tensors]
    with overrides.DisableTorchFunctionSubclass():
        result = inner(parts, *args[1:], **kwargs)
    return wrap(result, spec)


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


def _viewed_shard(placement, mesh, mesh_dim, groups, shape, out_shape, placements):
    """Where a view puts a shard (plain or strided) of input dim ``placement.dim``, as PyTorch's view rules: on its
    output dim when the dim maps to one output dim of its size; on the group's first output dim when the dim leads
    a group of dims merged or split and the mesh dimension divides both evenly (each rank's part is then one
    contiguous block of the group); a strided shard of the merged dim when the dim is merged after others; a strided
    shard split back to the output dim its groups end before, as a Shard. None where the shard must be gathered."""
    dim, parts = placement.dim, mesh.size(mesh_dim)
    ins, outs = next(((ins, outs) for ins, outs in groups if dim in ins), (None, None))
    if ins is None:
        return None
    if shape[dim] != 1:   # dims of size 1 a group takes in or gives out are singletons beside it, as PyTorch's
        ins = [i for i in ins if shape[i] != 1]
        outs = [o for o in outs if out_shape[o] != 1]
    if len(ins) == 1 and len(outs) == 1:
        return along(placement, outs[0])
    if sum(1 for p in placements if isinstance(p, (Shard, _StridedShard)) and p.dim == dim) > 1:
        return None
    if isinstance(placement, _StridedShard):
        ends = [k for k in outs if math.prod(out_shape[outs[0]:k]) == placement.split_factor]
        if len(ins) > 1 or not ends or (ends[0] != outs[-1] and out_shape[ends[0]] % parts):
            return None   # (the last dim of the split takes uneven chunks, as the strided shard's groups hold them)
        return Shard(ends[0])
    if dim != ins[0] and len(outs) > 1:
        return None
    if len(ins) > 1 and shape[dim] % parts and dim != ins[-1]:   # (the last dim's uneven chunks stay whole rows)
        raise RuntimeError(f"Cannot flatten unevenly sharded tensor: dimension {dim} (size {shape[dim]}) is not "
                           f"evenly divisible by mesh dimension {mesh_dim} (size {parts}). Please redistribute the "
                           "tensor before this operation.")
    if dim != ins[0]:
        return _StridedShard(outs[0], split_factor=math.prod(shape[ins[0]:dim]))
    if len(outs) > 1 and out_shape[outs[0]] % parts:
        raise RuntimeError(f"Cannot unflatten unevenly sharded tensor: output dimension {outs[0]} (size "
                           f"{out_shape[outs[0]]}) is not evenly divisible by mesh dimension {mesh_dim} (size "
                           f"{parts}). Please redistribute the tensor before this operation.")
    return Shard(outs[0])


def split_op(name, inner, args, kwargs):
    """``chunk``, ``split``, ``unbind`` and ``select``: a shard of the dim they split is gathered first (as PyTorch's;
    ``unbind`` refuses it, as PyTorch's), other shards stay (past a dim that unbind or select removes, one dim
    lower), partial values stay partial."""
    bound = inspect.signature(inner).bind(*args, **kwargs)
    bound.apply_defaults()
    self = args[0]
    dim = bound.arguments["dim"] % self.ndim
    removes = name in ("unbind", "select")
    if name == "unbind" and any(p.is_shard(dim) for p in self.placements):   # (PyTorch's error, two arguments)
        raise RuntimeError(f"Attempted to unbind along the sharded dimension {dim}. ", "It cannot be performed "
                           "without redistribution, which is disallowed by the current operator.")
    wanted = tuple(Replicate() if p.is_shard(dim) else p for p in self.placements)
    out = tuple(Shard(p.dim - (removes and p.dim > dim)) if p.is_shard() else p for p in wanted)
    with overrides.DisableTorchFunctionSubclass():   # the pieces' global shapes, from a meta tensor of the input's
        from ... import empty
        shapes = inner(empty(tuple(self.shape), device="meta"), *args[1:], **kwargs)
        result = inner(local_part(self, wanted, out), *args[1:], **kwargs)

    def laid_out(piece, shape):
        shape = tuple(shape)
        return wrap(piece, DTensorSpec(self.device_mesh, out, Size(shape), contiguous_stride(shape)))
    if isinstance(result, (list, tuple)):
        return type(result)(laid_out(piece, meta.shape) for piece, meta in zip(result, shapes))
    return laid_out(result, shapes.shape)


def expand(name, inner, args, kwargs):
    """``expand``: shards of the dims it keeps at their size stay (one dim further per new leading dim), shards of
    size-1 dims it broadcasts are gathered first; partial values stay partial."""
    self = args[0]
    with overrides.DisableTorchFunctionSubclass():   # the output's global shape, from a meta tensor of the input's
        from ... import empty
        out_shape = tuple(inner(empty(tuple(self.shape), device="meta"), *args[1:], **kwargs).shape)
    new = len(out_shape) - self.ndim
    wanted = tuple(Replicate() if _sharded(p) and out_shape[p.dim + new] != self.shape[p.dim] else p
                   for p in self.placements)
    out = tuple(along(p, p.dim + new) if _sharded(p) else p for p in wanted)
    spec = DTensorSpec(self.device_mesh, out, Size(out_shape), contiguous_stride(out_shape))
    with overrides.DisableTorchFunctionSubclass():
        return wrap(inner(local_part(self, wanted, out), tuple(spec.local_shape())), spec)


def _meta_shape(inner, self, args, kwargs):
    """The global shape of ``inner``'s output on ``self``, from a meta tensor of its shape."""
    with overrides.DisableTorchFunctionSubclass():
        from ... import empty
        return tuple(inner(empty(tuple(self.shape), device="meta"), *args[1:], **kwargs).shape)


def repeat(name, inner, args, kwargs):
    """``repeat``, as PyTorch's view rule for it: shards of dims repeated once stay (one dim further per new leading
    dim), shards of dims repeated more are gathered first; partial values stay partial (it is linear)."""
    self = args[0]
    out_shape = _meta_shape(inner, self, args, kwargs)
    new = len(out_shape) - self.ndim
    wanted = tuple(Replicate() if _sharded(p) and out_shape[p.dim + new] != self.shape[p.dim] else p
                   for p in self.placements)
    out = tuple(along(p, p.dim + new) if _sharded(p) else p for p in wanted)
    return run(inner, args, kwargs, {id(self): wanted}, DTensorSpec(self.device_mesh, out, Size(out_shape),
                                                                    contiguous_stride(out_shape)))


def squeeze(name, inner, args, kwargs):
    """``squeeze``: a shard follows its dim; one of a dim it removes (of size 1) is refused, as PyTorch's strict
    view rule refuses it."""
    self = args[0]
    given = args[1] if len(args) > 1 else kwargs.get("dim")
    dims = range(self.ndim) if given is None else given if isinstance(given, (list, tuple)) else (given,)
    removed = {d % self.ndim for d in dims if self.shape[d] == 1} if self.ndim else set()
    for p in self.placements:
        if _sharded(p) and p.dim in removed:
            raise RuntimeError(f"This operation would remove or reshape sharded dimension {p.dim}, which requires "
                               "redistribution. Please redistribute the input first.")
    out = tuple(along(p, p.dim - sum(1 for d in removed if d < p.dim)) if _sharded(p) else p for p in self.placements)
    out_shape = tuple(size for d, size in enumerate(self.shape) if d not in removed)
    return run(inner, args, kwargs, {}, DTensorSpec(self.device_mesh, out, Size(out_shape),
                                                    contiguous_stride(out_shape)))


def pad(name, inner, args, kwargs):
    """Constant padding, as PyTorch's ``constant_pad_nd`` strategy: shards of the dims it does not pad stay, those
    of padded dims are gathered first; partial values stay partial where every rank's constant reduces to itself
    (avg, max, min; sum only for a zero constant), are reduced first otherwise. Other modes have no rule."""
    bound = inspect.signature(inner).bind(*args, **kwargs)
    bound.apply_defaults()
    given = bound.arguments
    self, widths = given["input"], tuple(given.get("pad", given.get("pad_widths")))
    if given.get("mode", "constant") != "constant":
        raise no_rule(name, args, kwargs)
    value = given.get("value") or 0
    padded = {self.ndim - 1 - i for i in range(len(widths) // 2) if widths[2 * i] or widths[2 * i + 1]}
    kept_partial = ("sum", "avg", "max", "min") if value == 0 or not padded else ("avg", "max", "min")
    wanted = tuple(Replicate() if (_sharded(p) and p.dim in padded) or
                   (p.is_partial() and not (type(p) is Partial and p.reduce_op in kept_partial)) else p
                   for p in self.placements)
    out_shape = _meta_shape(inner, self, args, kwargs)
    return run(inner, args, kwargs, {id(self): wanted}, DTensorSpec(self.device_mesh, wanted, Size(out_shape),
                                                                    contiguous_stride(out_shape)))


def shape_op(name, inner, args, kwargs):
    """Transposes, permutes and unsqueezes move a shard (plain or strided) to its dim's new place; views and
    reshapes place shards by ``_viewed_shard``, gathering the others first."""
    self = args[0]
    shape = tuple(self.shape)
    if name in PERMUTING:
        order = _permutation(name, self.ndim, args, kwargs)
        out_shape = tuple(1 if d is None else shape[d] for d in order)
        moved = {d: k for k, d in enumerate(order) if d is not None}
        placements = tuple(along(p, moved[p.dim]) if _sharded(p) else p for p in self.placements)
        spec = DTensorSpec(self.device_mesh, placements, Size(out_shape), contiguous_stride(out_shape))
        return run(inner, args, kwargs, {}, spec)
    with overrides.DisableTorchFunctionSubclass():   # the output's global shape, from a meta tensor of the input's
        from ... import empty
        out_shape = tuple(inner(empty(shape, device="meta"), *args[1:], **kwargs).shape)
    groups = _view_groups(shape, out_shape) or []
    copies = name != "view" and not copies_nothing(self)   # (a copy reduces partial values, as PyTorch's clone)
    wanted, placements = [], []
    for mesh_dim, placement in enumerate(self.placements):
        if copies and placement.is_partial():
            placement = Replicate()
        moved = placement
        if _sharded(placement):
            moved = _viewed_shard(placement, self.device_mesh, mesh_dim, groups, shape, out_shape, self.placements)
            if moved is None:   # gathered first, as PyTorch's
                placement = moved = Replicate()
        wanted.append(placement), placements.append(moved)
    spec = DTensorSpec(self.device_mesh, tuple(placements), Size(out_shape), contiguous_stride(out_shape))
    if name == "flatten":
        return run(inner, args, kwargs, {id(self): tuple(wanted)}, spec)
    return wrap(local_part(self, wanted, spec.placements).reshape(spec.local_shape()), spec)


def _sharded(placement):
    return placement.is_shard() or isinstance(placement, _StridedShard)
