"""Moving a DTensor's local array between placements, one mesh dimension at a time, with the collectives of that
dimension's process group: all-gather (Shard -> Replicate), all-reduce (Partial -> Replicate), reduce-scatter
(Partial -> Shard), a local chunk (Replicate -> Shard). Shards follow ``torch.chunk``: each holds ceil(n / size)
rows, the last ones fewer or none; collectives pad them to that size and trim after. A ``_StridedShard`` cuts the
part that the Shards of other mesh dimensions along its dimension leave (it is gathered before them and chunked
after them) into groups, as PyTorch's: its split factor less the count of the later mesh dimensions' Shards (FSDP
over tensor parallelism: one group, a plain chunk; a flatten of a dim after others: the merged dims' size), each
group chunked."""
import math

from ..._backend import xp_of
from ..._tensor import _make
from .. import collectives
from .._mpi import ReduceOp
from .placement_types import Replicate, Shard, _NormPartial, _StridedShard


def chunk_bounds(size, parts, index):
    """The [start, end) of chunk ``index`` of ``parts`` along a dimension of ``size``, as ``torch.chunk`` cuts it
    (chunks of ceil(size / parts); trailing ones short or empty)."""
    step = -(-size // parts)
    start = min(index * step, size)
    return start, min(start + step, size)


def local_shape_and_offset(shape, mesh, placements):
    """This rank's shard shape and its offset in the global tensor (nested chunks where several mesh dimensions
    shard one tensor dimension, the first mesh dimension outermost; strided shards cut inside those chunks)."""
    shape, offset = list(shape), [0] * len(shape)
    coordinate = mesh.get_coordinate()
    for mesh_dim in sorted(range(len(placements)), key=lambda i: isinstance(placements[i], _StridedShard)):
        placement = placements[mesh_dim]
        if isinstance(placement, (Shard, _StridedShard)):
            groups = strided_groups(placements, mesh, mesh_dim)
            start, end = chunk_bounds(shape[placement.dim] // groups, mesh.size(mesh_dim), coordinate[mesh_dim])
            shape[placement.dim], offset[placement.dim] = (end - start) * groups, offset[placement.dim] + start
    return tuple(shape), tuple(offset)


def strided_groups(placements, mesh, mesh_dim):
    """The number of groups the placement of ``mesh_dim`` cuts its dimension into, each chunked across the mesh
    dimension: a ``_StridedShard``'s split factor less the count of the Shards of the same dimension on later mesh
    dimensions (which cut it first); 1 otherwise."""
    placement = placements[mesh_dim]
    if not isinstance(placement, _StridedShard):
        return 1
    shards = math.prod(mesh.size(i) for i in range(mesh_dim + 1, len(placements))
                       if placements[i] == Shard(placement.dim))
    return max(placement.split_factor // shards, 1)


def _moved(array, dim):
    return xp_of(array).moveaxis(array, dim, 0)


def _padded(array, dim, rows):
    """``array`` with ``dim`` first, zero-padded to ``rows`` along it, contiguous (``array`` itself when it already
    is: a collective's input, only read)."""
    xp = xp_of(array)
    front = _moved(array, dim)
    if front.shape[0] == rows and front.flags.c_contiguous:
        return front
    out = xp.zeros((rows,) + front.shape[1:], array.dtype)
    out[:front.shape[0]] = front
    return out


def all_gather(array, dim, size, group, parts):
    """The whole of a dimension of global ``size`` sharded ``parts`` ways along ``group``."""
    xp = xp_of(array)
    step = -(-size // parts)
    gathered = _make(xp.empty((parts * step,) + _moved(array, dim).shape[1:], array.dtype))
    collectives.all_gather_single(gathered, _make(_padded(array, dim, step)), group=group)
    if parts * step == size:   # even shards: no padding to cut out
        return xp.ascontiguousarray(xp.moveaxis(gathered._data, 0, dim))
    pieces = []
    for r in range(parts):
        start, end = chunk_bounds(size, parts, r)
        pieces.append(gathered._data[r * step:r * step + end - start])
    return xp.ascontiguousarray(xp.moveaxis(xp.concatenate(pieces), 0, dim))


def chunk(array, dim, parts, index, groups=1):
    """This rank's ``torch.chunk`` piece of ``array`` along ``dim`` (a copy); of each of ``groups`` equal groups
    along it, joined."""
    xp = xp_of(array)
    front = _moved(array, dim)
    grouped = front.reshape((groups, front.shape[0] // groups) + front.shape[1:])
    start, end = chunk_bounds(grouped.shape[1], parts, index)
    piece = grouped[:, start:end].reshape(((end - start) * groups,) + front.shape[1:])
    return xp.ascontiguousarray(xp.moveaxis(piece, 0, dim))


def gather_groups(array, dim, size, group, parts, groups):
    """``all_gather`` of pieces cut from each of ``groups`` equal groups along ``dim`` (a whole ``size`` long)."""
    if groups == 1:
        return all_gather(array, dim, size, group, parts)
    xp = xp_of(array)
    front = _moved(array, dim)
    grouped = front.reshape((groups, front.shape[0] // groups) + front.shape[1:])
    whole = all_gather(grouped, 1, size // groups, group, parts)
    return xp.ascontiguousarray(xp.moveaxis(whole.reshape((size,) + front.shape[1:]), 0, dim))


_OPS = {"sum": ReduceOp.SUM, "avg": ReduceOp.AVG, "max": ReduceOp.MAX, "min": ReduceOp.MIN,
        "product": ReduceOp.PRODUCT}


def reduce(array, placement, group):
    """The reduction of every rank's partial ``array`` along ``group``, by ``placement``'s operation."""
    xp = xp_of(array)
    if isinstance(placement, _NormPartial) and placement.reduce_op == "sum":
        p = placement.norm_type
        if p == 0 or p == 1:
            total = _make(array.copy())
            collectives.all_reduce(total, group=group)
            return total._data
        powered = _make(xp.asarray(xp.abs(array) ** p))
        collectives.all_reduce(powered, group=group)
        return xp.asarray(powered._data ** (1.0 / p)).astype(array.dtype, copy=False)
    if placement.reduce_op not in _OPS:
        raise ValueError(f"Partial reduce_op {placement.reduce_op!r} is not supported")
    total = _make(xp.array(array, copy=True))
    collectives.all_reduce(total, op=_OPS[placement.reduce_op], group=group)
    return total._data


def reduce_scatter(array, dim, placement, group, parts, index):
    """This rank's chunk along ``dim`` of the reduction of every rank's partial ``array``."""
    if placement.reduce_op not in ("sum", "avg") or isinstance(placement, _NormPartial):
        return chunk(reduce(array, placement, group), dim, parts, index)
    size, step = array.shape[dim], -(-array.shape[dim] // parts)
    padded = _padded(array, dim, parts * step)
    out = _make(xp_of(array).empty((step,) + padded.shape[1:], array.dtype))
    collectives.reduce_scatter_single(out, _make(padded), op=_OPS[placement.reduce_op], group=group)
    start, end = chunk_bounds(size, parts, index)
    return xp_of(array).ascontiguousarray(xp_of(array).moveaxis(out._data[:end - start], 0, dim))


def redistribute_array(array, mesh, shape, current, target):
    """``array``, this rank's local part of a tensor of global ``shape`` laid out by ``current``, laid out by
    ``target`` instead. Shard -> Partial and Replicate -> Partial are PyTorch's internal moves and not allowed."""
    current, target = list(current), tuple(target)
    coordinate = mesh.get_coordinate()
    for src, dst in zip(current, target):
        if dst.is_partial() and src != dst:
            raise RuntimeError(f"Can not redistribute from {src} to {dst}, redistributing to Partial is for "
                               "internal use only!")
    _check_strided(current, target)
    # gather (or reduce) inner mesh dimensions first, so an outer mesh dimension sees whole inner chunks; strided
    # shards cut inside the inner chunks: gathered first, chunked last
    changed = [i for i in range(len(target)) if current[i] != target[i]]
    order = [i for i in changed if isinstance(current[i], _StridedShard)] + \
            [i for i in reversed(changed) if not target[i].is_shard() and not isinstance(current[i], _StridedShard)
             and not isinstance(target[i], _StridedShard)] + \
            [i for i in changed if target[i].is_shard() and not isinstance(current[i], _StridedShard)] + \
            [i for i in changed if isinstance(target[i], _StridedShard) and not isinstance(current[i], _StridedShard)]
    for i in order:
        src, dst, group, parts = current[i], target[i], mesh.get_group(i), mesh.size(i)
        if isinstance(src, (Shard, _StridedShard)):
            dim_size = _sharded_size(shape, mesh, current, src.dim, i)
            array = gather_groups(array, src.dim, dim_size, group, parts, strided_groups(current, mesh, i))
            src = Replicate()
        if src.is_partial():
            if dst.is_shard():
                array = reduce_scatter(array, dst.dim, src, group, parts, coordinate[i])
                current[i] = dst
                continue
            array = reduce(array, src, group)
        if isinstance(dst, (Shard, _StridedShard)):
            array = chunk(array, dst.dim, parts, coordinate[i], strided_groups(target, mesh, i))
        current[i] = dst
    return array


def _check_strided(current, target):
    """A strided shard stays only where the Shards it cuts inside stay too (its part is not a chunk otherwise)."""
    for i, (src, dst) in enumerate(zip(current, target)):
        if isinstance(src, _StridedShard) and src == dst:
            if any(current[j] != target[j] for j in range(i + 1, len(target)) if current[j] == Shard(src.dim)):
                raise NotImplementedError(f"redistributing from {tuple(current)} to {tuple(target)} would move the "
                                          f"shards that {src} cuts inside; redistribute it too")


def _sharded_size(shape, mesh, placements, dim, mesh_dim):
    """The size of tensor dimension ``dim`` as mesh dimension ``mesh_dim`` sees it: cut by the outer mesh
    dimensions sharding it too (a strided shard: by every mesh dimension's Shard of it)."""
    size, coordinate = shape[dim], mesh.get_coordinate()
    strided = isinstance(placements[mesh_dim], _StridedShard)
    for i in range(len(placements)):
        if placements[i] == Shard(dim) and (i < mesh_dim or strided):
            start, end = chunk_bounds(size, mesh.size(i), coordinate[i])
            size = end - start
    return size


def normalized(placements):
    """``placements`` with Partial ones as Replicate: what a gradient flowing back to them is laid out as."""
    return tuple(Replicate() if p.is_partial() else p for p in placements)
