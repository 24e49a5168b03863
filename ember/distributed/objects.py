"""Collectives of picklable Python objects: each object is pickled into bytes, the byte counts are exchanged, then
the bytes travel in one MPI collective (so these respect the group's timeout like the tensor collectives). Like those,
they first check that every rank called the same collective with the same root. ``send_object_list`` and
``recv_object_list`` send the counts, then the bytes, as two point-to-point messages."""
import io

import numpy

from .. import empty, from_numpy, int64, uint8, zeros
from ._requests import wait as _wait
from .collectives import _check_same, _root, recv, send
from .process_group import _resolve

__all__ = ["all_gather_object", "broadcast_object_list", "gather_object", "recv_object_list",
           "scatter_object_list", "send_object_list"]


def _c10d():
    # read at each call: a program may replace distributed_c10d's _pickler/_unpickler, as in PyTorch
    from . import distributed_c10d
    return distributed_c10d


def _dumps(obj):
    buffer = io.BytesIO()
    _c10d()._pickler(buffer).dump(obj)
    return numpy.frombuffer(buffer.getvalue(), numpy.uint8)


def _loads(array):
    return _c10d()._unpickler(io.BytesIO(array.tobytes())).load()


def _displacements(counts):
    return numpy.concatenate([[0], numpy.cumsum(counts)[:-1]]).astype(numpy.int64).tolist()


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Replaces ``object_list``'s contents on every rank with rank ``src``'s (in place)."""
    pg = _resolve(group)
    if pg is None:
        return
    root = _root(pg, src, group_src, "src")
    _check_same(pg, "broadcast_object_list", root=root)
    is_root = pg.rank() == root
    payloads = [_dumps(obj) for obj in object_list] if is_root else []   # one pickle per object, as torch's
    count = numpy.array([len(payloads)], numpy.int64)
    _wait([pg.comm.Ibcast(count, root=root)], pg, "broadcast_object_list")
    sizes = numpy.array([p.size for p in payloads] if is_root else [0] * int(count[0]), numpy.int64)
    _wait([pg.comm.Ibcast(sizes, root=root)], pg, "broadcast_object_list")
    if is_root:
        payload = numpy.concatenate([numpy.empty(0, numpy.uint8)] + payloads)
    else:
        payload = numpy.empty(int(sizes.sum()), numpy.uint8)
    _wait([pg.comm.Ibcast(payload, root=root)], pg, "broadcast_object_list")
    if not is_root:
        object_list[:] = [_loads(payload[start:start + size]) for start, size in zip(_displacements(sizes),
                                                                                     sizes.tolist())]


def all_gather_object(object_list, obj, group=None):
    """Fills ``object_list[r]`` with rank r's ``obj`` on every rank."""
    pg = _resolve(group)
    if pg is None:
        return
    if len(object_list) != pg.size():
        raise ValueError(f"object_list must have one entry per rank of the group ({pg.size()}), got "
                         f"{len(object_list)}")
    _check_same(pg, "all_gather_object")
    payload = _dumps(obj)
    counts = numpy.empty(pg.size(), numpy.int64)
    _wait([pg.comm.Iallgather(numpy.array([payload.size], numpy.int64), counts)], pg, "all_gather_object")
    received = numpy.empty(int(counts.sum()), numpy.uint8)
    spec = [received, (counts.tolist(), _displacements(counts))]
    _wait([pg.comm.Iallgatherv(payload, spec)], pg, "all_gather_object")
    for r, (start, count) in enumerate(zip(_displacements(counts), counts)):
        object_list[r] = _loads(received[start:start + count])


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    """Collects every rank's ``obj`` into ``object_gather_list`` on rank ``dst``."""
    pg = _resolve(group)
    if pg is None:
        return
    root = _root(pg, 0 if dst is None and group_dst is None else dst, group_dst, "dst")
    is_root = pg.rank() == root
    if is_root and (object_gather_list is None or len(object_gather_list) != pg.size()):
        raise ValueError(f"Argument ``object_gather_list`` must be a list of {pg.size()} entries on the destination "
                         f"rank.")
    if not is_root and object_gather_list is not None:
        raise ValueError("Argument ``object_gather_list`` must NOT be specified on non-destination ranks.")
    _check_same(pg, "gather_object", root=root)
    payload = _dumps(obj)
    counts = numpy.empty(pg.size(), numpy.int64) if is_root else None
    _wait([pg.comm.Igather(numpy.array([payload.size], numpy.int64), counts, root=root)], pg, "gather_object")
    received = numpy.empty(int(counts.sum()), numpy.uint8) if is_root else None
    spec = [received, (counts.tolist(), _displacements(counts))] if is_root else None
    _wait([pg.comm.Igatherv(payload, spec, root=root)], pg, "gather_object")
    if is_root:
        for r, (start, count) in enumerate(zip(_displacements(counts), counts)):
            object_gather_list[r] = _loads(received[start:start + count])


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None, group=None,
                        group_src=None):
    """Rank r receives ``scatter_object_input_list[r]`` from rank ``src`` in ``scatter_object_output_list[0]``."""
    pg = _resolve(group)
    if pg is None:
        return
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at least 1.")
    root = _root(pg, 0 if src is None and group_src is None else src, group_src, "src")
    _check_same(pg, "scatter_object_list", root=root)
    is_root = pg.rank() == root
    if is_root:
        if scatter_object_input_list is None or len(scatter_object_input_list) != pg.size():
            raise ValueError(f"scatter_object_input_list must have {pg.size()} entries on the source rank")
        payloads = [_dumps(o) for o in scatter_object_input_list]
        counts = numpy.array([p.size for p in payloads], numpy.int64)
        send = numpy.concatenate(payloads)
    size = numpy.empty(1, numpy.int64)
    _wait([pg.comm.Iscatter(counts if is_root else None, size, root=root)], pg, "scatter_object_list")
    received = numpy.empty(int(size[0]), numpy.uint8)
    spec = [send, (counts.tolist(), _displacements(counts))] if is_root else None
    _wait([pg.comm.Iscatterv(spec, received, root=root)], pg, "scatter_object_list")
    scatter_object_output_list[0] = _loads(received)


def _peer(pg, rank, group_rank, kind):
    """The group rank of a point-to-point peer, with torch's errors."""
    if group_rank is not None:
        if rank is not None:
            raise ValueError("Can't specify both group_rank and global_rank")
        if not 0 <= group_rank < pg.size():
            raise ValueError(f"Group rank {group_rank} is not part of group {pg.ranks}")
    elif rank is None:
        raise ValueError("Must specify global_rank or group_rank")
    else:
        group_rank = pg.group_rank(rank, "Global rank")
    if group_rank == pg.rank():
        raise ValueError(f"Invalid {kind} rank: {kind} rank should not be the same as the rank of the current "
                         f"process.")
    return group_rank


def send_object_list(object_list, dst=None, group=None, device=None, group_dst=None, use_batch=False):
    """Sends the picklable objects of ``object_list`` to rank ``dst``, which receives them with
    ``recv_object_list`` into a list of the same length. ``device`` and ``use_batch`` are accepted; the bytes
    travel through host memory either way."""
    pg = _resolve(group)
    if pg is None:
        return
    peer = _peer(pg, dst, group_dst, "destination")
    payloads = [_dumps(obj) for obj in object_list]
    header = numpy.array([len(payloads)] + [p.size for p in payloads], numpy.int64)   # the count, then the sizes
    send(from_numpy(header), group=group, group_dst=peer)
    send(from_numpy(numpy.concatenate(payloads) if payloads else numpy.empty(0, numpy.uint8)), group=group,
         group_dst=peer)


def recv_object_list(object_list, src=None, group=None, device=None, group_src=None, use_batch=False):
    """Fills ``object_list`` with the objects rank ``src`` sends with ``send_object_list``; returns ``src``'s
    global rank (-1 when this rank is not in ``group``). A list shorter than what was sent is an MPI truncation
    error; a longer one, a ValueError."""
    pg = _resolve(group)
    if pg is None:
        return -1
    peer = _peer(pg, src, group_src, "source")
    header = zeros(len(object_list) + 1, dtype=int64)
    sender = recv(header, group=group, group_src=peer)
    count, sizes = int(header[0]), header[1:].tolist()
    payload = empty(sum(sizes), dtype=uint8)
    recv(payload, group=group, group_src=peer)
    if count != len(object_list):
        raise ValueError(f"recv_object_list: rank {sender} sent {count} objects but object_list has "
                         f"{len(object_list)} entries")
    data, offset = payload.numpy(), 0
    for i, size in enumerate(sizes):
        object_list[i] = _loads(data[offset:offset + size])
        offset += size
    return sender
