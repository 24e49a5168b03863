"""Tensor collectives and point-to-point messages on MPI.

Every operation starts a non-blocking MPI request on the tensors' own memory (contiguous CPU tensors go straight to
mpi4py's buffer interface; others are staged in one contiguous copy) and returns a ``Work``; without ``async_op`` the
call waits on it at once. Waiting polls the requests against the group's timeout, so a rank that never arrives gives
a ``DistBackendError`` instead of a hang. Before a collective the ranks compare what they pass (kind, dtype, shape,
root, op) with one small allgather, and all raise the same clear error when they disagree.
"""
import functools
import time

import numpy

from .. import Tensor, from_numpy, no_grad
from .._warnings import warn
from ..futures import Future
from . import _mpi, _nccl
from ._requests import wait as _wait
from .errors import DistBackendError
from .process_group import _resolve

__all__ = ["P2POp", "Work", "all_gather", "all_gather_into_tensor", "all_gather_single", "all_reduce", "all_to_all",
           "all_to_all_single", "barrier", "batch_isend_irecv", "broadcast", "gather", "irecv", "isend",
           "monitored_barrier", "recv", "reduce", "reduce_scatter", "reduce_scatter_single", "reduce_scatter_tensor",
           "scatter", "send"]

ReduceOp = _mpi.ReduceOp


class Work:
    """A started collective or message: ``wait()`` blocks until it is done (raising on timeout), ``is_completed()``
    asks without blocking."""

    _future = None

    def __init__(self, requests, group, what, finish=None, outputs=(), statuses=None):
        self._requests, self._group, self._what, self._finish, self._outputs = requests, group, what, finish, outputs
        self._statuses, self._done = statuses, False

    def wait(self, timeout=None):
        """Blocks until the operation has completed on this rank; returns True."""
        if not self._done:
            _wait(self._requests, self._group, self._what, timeout, self._statuses)
            self._complete()
        return True

    def is_completed(self):
        """True once the operation has completed on this rank."""
        if not self._done and _mpi.mpi().Request.Testall(self._requests, self._statuses):
            self._complete()
        return self._done

    def is_success(self):
        return self.is_completed()

    def result(self):
        """The operation's output tensors."""
        self.wait()
        return list(self._outputs)

    def get_future(self):
        """A Future completed with the operation's output tensors once it completes; waiting on it waits on this."""
        if self._future is None:
            self._future = Future()
            self._future._upstream = self
            if self._done:
                self._future.set_result(list(self._outputs))
        return self._future

    def _complete(self):
        self._done = True
        if self._finish is not None:
            self._finish()
        if self._future is not None:
            self._future.set_result(list(self._outputs))

    @property
    def source_rank(self):
        """For ``irecv``: the global rank the message came from."""
        self.wait()
        return self._source


def _finish_work(work, async_op):
    if async_op:
        return work
    work.wait()
    return None


# --- buffers ---------------------------------------------------------------------------------------------------
def _array(tensor, name="tensor"):
    """The tensor's data as a contiguous host array, and a function that writes the array back when it is a copy."""
    data = getattr(tensor, "_data", None)
    if type(data) is numpy.ndarray and data.flags.c_contiguous and isinstance(tensor, Tensor):
        return data, None   # the common case, first: a contiguous CPU tensor's own memory
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name} must be a Tensor, got {type(tensor).__name__}")
    if tensor.device.type != "cpu":
        staged = tensor.detach().cpu().numpy()

        def copy_back():
            with no_grad():
                tensor.copy_(from_numpy(staged))
        return staged, copy_back
    array = tensor.numpy(force=True)
    if array.flags.c_contiguous:
        return array, None
    staged = numpy.ascontiguousarray(array)
    return staged, lambda: array.__setitem__(Ellipsis, staged)


_NATIVE = "efdbBhHiIlLqQFD?"   # the dtype characters MPI has a datatype for


def _spec(array, count=None):
    """mpi4py's ``[buffer, count, datatype]`` for a contiguous array (bytes for dtypes MPI has no type for)."""
    if array.dtype.char not in _NATIVE:
        return [array.reshape(-1).view(numpy.uint8), array.size if count is None else count,
                _mpi.datatype(array.dtype)]
    return [array, array.size if count is None else count, _mpi.datatype(array.dtype)]


def _chain(*steps):
    if steps.count(None) == len(steps):
        return None
    steps = [s for s in steps if s is not None]

    def run():
        for step in steps:
            step()
    return run


# --- agreement across ranks ----------------------------------------------------------------------------------------
_KINDS = ["all_reduce", "broadcast", "reduce", "all_gather", "all_gather_into_tensor", "gather", "scatter",
          "reduce_scatter", "reduce_scatter_tensor", "all_to_all", "barrier", "broadcast_object_list",
          "all_gather_object", "gather_object", "scatter_object_list"]


def _check_same(pg, kind, array=None, root=-1, op=None):
    """Raises on every rank, with what each passed, when the ranks call different collectives or disagree on dtype,
    shape, root or op. A group made under ``TORCH_DISTRIBUTED_DEBUG=OFF`` skips the check (and its small
    allgather)."""
    _agreed(_start_check(pg, kind, array, root, op))


def _start_check(pg, kind, array=None, root=-1, op=None):
    """Starts the exchange of what each rank passes; ``_agreed`` ends it. None for an unchecked group."""
    if not pg.checked:
        return None
    dtype, shape = (None, ()) if array is None else (array.dtype, array.shape)
    signature = _signature(kind, op, root, dtype, shape)
    gathered = bytearray(len(signature) * len(pg.ranks))
    byte = _mpi.BYTE
    return pg, kind, dtype, shape, root, op, signature, gathered, pg.comm.Iallgather([signature, byte],
                                                                                     [gathered, byte])


def _agreed(started):
    """Waits for the exchange ``_start_check`` began; DistBackendError on every rank when the ranks disagree. The
    data's collective starts only after this: MPI given different counts on different ranks may hang or write past
    a buffer."""
    if started is None:
        return
    pg, kind, dtype, shape, root, op, signature, gathered, request = started
    _wait([request], pg, kind)
    if gathered == signature * len(pg.ranks):
        return
    mine = f"{kind}(dtype={dtype}, shape={list(shape)}, root={root}, op={None if op is None else op.name})"
    described = pg.comm.allgather(mine)
    raise DistBackendError(f"[rank {pg.comm.Get_rank()}] mismatched collective across ranks: " +
                           "; ".join(f"rank {r} called {d}" for r, d in zip(pg.ranks, described)))


@functools.lru_cache(maxsize=1024)
def _signature(kind, op, root, dtype, shape):
    """What a rank passes to a collective, as the bytes of int64s: kind, op, root, dtype, element count, rank and a
    hash of the shape."""
    numel = 1
    for n in shape:
        numel *= n
    return numpy.array([_KINDS.index(kind), -1 if op is None else op.value, root, -1 if dtype is None else dtype.num,
                        -1 if dtype is None else dtype.itemsize, numel, len(shape), hash(shape) & (2 ** 62 - 1)],
                       dtype=numpy.int64).tobytes()


def _root(pg, src, group_src, name):
    """The group rank of a root given as a global rank (``src``/``dst``) or a group rank (``group_src``/...)."""
    if src is not None and group_src is not None:
        raise ValueError(f"Can not specify both {name} and group_{name}")
    if group_src is not None:
        if not 0 <= group_src < pg.size():
            raise ValueError(f"group_{name} {group_src} is not a rank of the group (size {pg.size()})")
        return group_src
    if src is None:
        raise ValueError(f"Must specify either {name} or group_{name}")
    return pg.group_rank(src, name)


def _same_tensors(tensors, like, name):
    for t in tensors:
        if t.shape != like.shape or t.dtype != like.dtype:
            raise RuntimeError(f"{name}: every tensor must have the input's shape {list(like.shape)} and dtype "
                               f"{like.dtype}, got shape {list(t.shape)} and dtype {t.dtype}")


def _check_list(tensors, pg, name):
    if len(tensors) != pg.size():
        raise ValueError(f"{name} must contain one tensor per rank of the group ({pg.size()}), got {len(tensors)}")


def _nccl_usable(pg, tensor, op=None):
    """Whether NCCL carries this collective (see ``_nccl``): a contiguous CUDA tensor of a dtype and op NCCL has,
    in a group whose ranks each have their own GPU."""
    if not isinstance(tensor, Tensor) or tensor.device.type != "cuda" or _nccl.communicator(pg, tensor) is None:
        return False
    if op is ReduceOp.AVG and not tensor.dtype.is_floating_point:
        return False   # integer AVG truncates toward zero, which NCCL's average does not
    return _nccl.usable(tensor._data, op)


def _on_gpu(pg, stream, what, outputs, async_op):
    """The Work of a collective NCCL queued on ``stream``: waiting waits for the stream."""
    return _finish_work(Work([], pg, what, stream.synchronize, outputs), async_op)


def _average(array, n):
    if array.dtype.kind in "iu":
        array[...] = (array / n).astype(array.dtype)   # integer AVG truncates toward zero
    elif array.dtype.kind != "b":
        array /= n


# --- collectives ---------------------------------------------------------------------------------------------------
def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduces ``tensor`` across the group in place: every rank ends with the result."""
    # The common call (a contiguous CPU tensor) makes few Python calls: after a large collective the interpreter runs
    # from cold caches, where each call costs microseconds.
    pg = _resolve(group)
    if pg is None:
        return None
    if not isinstance(op, _mpi.RedOpType):
        _mpi.as_op(op)   # raises, saying what op must be
    if pg.backend == "nccl" and _nccl_usable(pg, tensor, op):
        if pg.checked:
            _check_same(pg, "all_reduce", tensor._data, op=op)
        return _on_gpu(pg, _nccl.all_reduce(pg.nccl, tensor._data, op), "all_reduce", (tensor,), async_op)
    array, copy_back = _array(tensor)
    datatype, mpi_op = _mpi.reduction(op, array.dtype)
    check = _start_check(pg, "all_reduce", array, op=op) if pg.checked else None
    spec = [array, array.size, datatype] if array.dtype.char in _NATIVE else _spec(array)
    if check is not None:
        _agreed(check)
    return _all_reduce_array(pg, array, op, spec, mpi_op, async_op, copy_back, (tensor,))


def _all_reduce_unchecked(tensor, group):
    """Starts a SUM allreduce of a contiguous tensor without comparing arguments across ranks first (for
    DistributedDataParallel, whose buckets agree by construction); returns the Work."""
    if group.backend == "nccl" and _nccl_usable(group, tensor, ReduceOp.SUM):
        return _on_gpu(group, _nccl.all_reduce(group.nccl, tensor._data, ReduceOp.SUM), "all_reduce", (tensor,),
                       True)
    array, copy_back = _array(tensor)
    _, mpi_op = _mpi.reduction(ReduceOp.SUM, array.dtype)
    return _all_reduce_array(group, array, ReduceOp.SUM, _spec(array), mpi_op, True, copy_back, (tensor,))


def _all_reduce_array(pg, array, op, spec, mpi_op, async_op, copy_back, outputs):
    """Starts the allreduce; waits for it unless ``async_op``."""
    request = pg.comm.Iallreduce(_mpi.IN_PLACE, spec, op=mpi_op)
    finish = copy_back if op is not ReduceOp.AVG else _chain(lambda: _average(array, pg.size()), copy_back)
    if async_op:
        return Work([request], pg, "all_reduce", finish, outputs)
    _wait([request], pg, "all_reduce")
    if finish is not None:
        finish()
    return None


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copies ``tensor`` from rank ``src`` into ``tensor`` on every other rank."""
    pg = _resolve(group)
    if pg is None:
        return None
    root = _root(pg, src, group_src, "src")
    if pg.backend == "nccl" and _nccl_usable(pg, tensor):
        _check_same(pg, "broadcast", tensor._data, root)
        return _on_gpu(pg, _nccl.broadcast(pg.nccl, tensor._data, root), "broadcast", (tensor,), async_op)
    array, copy_back = _array(tensor)
    _check_same(pg, "broadcast", array, root)
    request = pg.comm.Ibcast(_spec(array), root=root)
    return _finish_work(Work([request], pg, "broadcast", copy_back, (tensor,)), async_op)


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduces ``tensor`` across the group into ``tensor`` on rank ``dst`` only."""
    pg = _resolve(group)
    if pg is None:
        return None
    root = _root(pg, dst, group_dst, "dst")
    op = _mpi.as_op(op)
    array, copy_back = _array(tensor)
    _mpi.check_op_dtype(op, array.dtype)
    _check_same(pg, "reduce", array, root, op)
    MPI = _mpi.mpi()
    is_root = pg.rank() == root
    send = MPI.IN_PLACE if is_root else _spec(array)
    request = pg.comm.Ireduce(send, _spec(array) if is_root else None, op=_mpi.mpi_op(op, array.dtype), root=root)
    average = (lambda: _average(array, pg.size())) if op is ReduceOp.AVG and is_root else None
    return _finish_work(Work([request], pg, "reduce", _chain(average, copy_back if is_root else None), (tensor,)),
                        async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fills ``tensor_list[r]`` with rank r's ``tensor`` on every rank."""
    pg = _resolve(group)
    if pg is None:
        return None
    _check_list(tensor_list, pg, "tensor_list")
    _same_tensors(tensor_list, tensor, "all_gather")
    array, _ = _array(tensor)
    _check_same(pg, "all_gather", array)
    gathered = numpy.empty((pg.size(),) + array.shape, array.dtype)
    request = pg.comm.Iallgather(_spec(array), _spec(gathered, array.size))
    return _finish_work(Work([request], pg, "all_gather", _unstack(gathered, tensor_list), tensor_list), async_op)


def _unstack(stacked, tensors):
    def copy_out():
        for part, t in zip(stacked, tensors):
            target, copy_back = _array(t)
            target[...] = part
            if copy_back is not None:
                copy_back()
    return copy_out


def _stack(tensors):
    return numpy.stack([_array(t)[0] for t in tensors])


def all_gather_single(output_tensor, input_tensor, group=None, async_op=False):
    """Gathers every rank's ``input_tensor`` into ``output_tensor``, concatenated or stacked along dim 0."""
    pg = _resolve(group)
    if pg is None:
        return None
    if pg.backend == "nccl" and isinstance(output_tensor, Tensor) and _nccl_usable(pg, input_tensor) and \
            _nccl_usable(pg, output_tensor) and output_tensor.numel() == input_tensor.numel() * pg.size() and \
            output_tensor.dtype == input_tensor.dtype:
        _check_same(pg, "all_gather_into_tensor", input_tensor._data)
        return _on_gpu(pg, _nccl.all_gather(pg.nccl, output_tensor._data, input_tensor._data),
                       "all_gather_into_tensor", (output_tensor,), async_op)
    array, _ = _array(input_tensor, "input_tensor")
    output, copy_back = _array(output_tensor, "output_tensor")
    if output.size != array.size * pg.size() or output.dtype != array.dtype:
        raise ValueError(f"output tensor must have {pg.size()} times the input's {array.size} elements and its dtype "
                         f"{input_tensor.dtype}, got {output.size} elements of {output_tensor.dtype}")
    _check_same(pg, "all_gather_into_tensor", array)
    request = pg.comm.Iallgather(_spec(array), _spec(output, array.size))
    return _finish_work(Work([request], pg, "all_gather_into_tensor", copy_back, (output_tensor,)), async_op)


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """Collects every rank's ``tensor`` into ``gather_list`` on rank ``dst``."""
    pg = _resolve(group)
    if pg is None:
        return None
    root = _root(pg, 0 if dst is None and group_dst is None else dst, group_dst, "dst")
    is_root = pg.rank() == root
    if is_root:
        if gather_list is None:
            raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
        _check_list(gather_list, pg, "gather_list")
        _same_tensors(gather_list, tensor, "gather")
    elif gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    array, _ = _array(tensor)
    _check_same(pg, "gather", array, root)
    gathered = numpy.empty((pg.size(),) + array.shape, array.dtype) if is_root else None
    request = pg.comm.Igather(_spec(array), _spec(gathered, array.size) if is_root else None, root=root)
    finish = _unstack(gathered, gather_list) if is_root else None
    return _finish_work(Work([request], pg, "gather", finish, gather_list or ()), async_op)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """Sends ``scatter_list[r]`` from rank ``src`` into ``tensor`` on rank r."""
    pg = _resolve(group)
    if pg is None:
        return None
    root = _root(pg, 0 if src is None and group_src is None else src, group_src, "src")
    is_root = pg.rank() == root
    if is_root:
        if scatter_list is None:
            raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
        _check_list(scatter_list, pg, "scatter_list")
        _same_tensors(scatter_list, tensor, "scatter")
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    array, copy_back = _array(tensor)
    _check_same(pg, "scatter", array, root)
    stacked = _stack(scatter_list) if is_root else None
    request = pg.comm.Iscatter(_spec(stacked, array.size) if is_root else None, _spec(array), root=root)
    return _finish_work(Work([request], pg, "scatter", copy_back, (tensor,)), async_op)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduces ``input_list[r]`` across ranks into ``output`` on rank r."""
    pg = _resolve(group)
    if pg is None:
        return None
    _check_list(input_list, pg, "input_list")
    _same_tensors(input_list, output, "reduce_scatter")
    op = _mpi.as_op(op)
    array, copy_back = _array(output, "output")
    _mpi.check_op_dtype(op, array.dtype)
    _check_same(pg, "reduce_scatter", array, op=op)
    return _reduce_scatter_arrays(pg, _stack(input_list), array, op, copy_back, output, async_op)


def reduce_scatter_single(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduces ``input`` (``world_size`` chunks along dim 0) across ranks; rank r's ``output`` gets chunk r."""
    pg = _resolve(group)
    if pg is None:
        return None
    op = _mpi.as_op(op)
    array, copy_back = _array(output, "output")
    source, _ = _array(input, "input")
    if source.size != array.size * pg.size() or source.dtype != array.dtype:
        raise ValueError(f"input tensor must have {pg.size()} times the output's {array.size} elements and its dtype "
                         f"{output.dtype}, got {source.size} elements of {input.dtype}")
    _mpi.check_op_dtype(op, array.dtype)
    _check_same(pg, "reduce_scatter_tensor", array, op=op)
    return _reduce_scatter_arrays(pg, source, array, op, copy_back, output, async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """``all_gather_single``'s former name, deprecated as in PyTorch 2.13 (a FutureWarning)."""
    _renamed("all_gather_into_tensor", "all_gather_single")
    return all_gather_single(output_tensor, input_tensor, group, async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """``reduce_scatter_single``'s former name, deprecated as in PyTorch 2.13 (a FutureWarning)."""
    _renamed("reduce_scatter_tensor", "reduce_scatter_single")
    return reduce_scatter_single(output, input, op, group, async_op)


def _renamed(old, new):
    warn(f"`torch.distributed.{old}` is deprecated. Please use `torch.distributed.{new}` instead.", FutureWarning,
         stacklevel=3)


def _reduce_scatter_arrays(pg, source, array, op, copy_back, output, async_op):
    request = pg.comm.Ireduce_scatter_block(_spec(source, array.size), _spec(array), op=_mpi.mpi_op(op, array.dtype))
    average = (lambda: _average(array, pg.size())) if op is ReduceOp.AVG else None
    return _finish_work(Work([request], pg, "reduce_scatter", _chain(average, copy_back), (output,)), async_op)


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op=False):
    """Sends ``input_tensor_list[r]`` to rank r, which receives it in its ``output_tensor_list[this rank]``."""
    pg = _resolve(group)
    if pg is None:
        return None
    _check_list(output_tensor_list, pg, "output_tensor_list")
    _check_list(input_tensor_list, pg, "input_tensor_list")
    inputs = [_array(t)[0] for t in input_tensor_list]
    dtype = inputs[0].dtype
    if any(a.dtype != dtype for a in inputs) or any(t.dtype != input_tensor_list[0].dtype for t in output_tensor_list):
        raise RuntimeError("all_to_all: every input and output tensor must have the same dtype")
    _check_same(pg, "all_to_all", inputs[0][:0].reshape(-1))
    send = numpy.concatenate([a.reshape(-1) for a in inputs])
    counts_out = [t.numel() for t in output_tensor_list]
    received = numpy.empty(sum(counts_out), dtype)

    def copy_out():
        offsets = numpy.cumsum([0] + counts_out)
        for t, start, end in zip(output_tensor_list, offsets[:-1], offsets[1:]):
            target, copy_back = _array(t)
            target[...] = received[start:end].reshape(target.shape)
            if copy_back is not None:
                copy_back()
    request = _alltoallv(pg, send, [a.size for a in inputs], received, counts_out)
    return _finish_work(Work([request], pg, "all_to_all", copy_out, output_tensor_list), async_op)


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None, group=None, async_op=False):
    """Splits ``input`` along dim 0 (evenly or by ``input_split_sizes``) and sends part r to rank r; ``output`` gets
    the parts from every rank in rank order."""
    pg = _resolve(group)
    if pg is None:
        return None
    source, _ = _array(input, "input")
    target, copy_back = _array(output, "output")
    if source.dtype != target.dtype:
        raise RuntimeError(f"all_to_all_single: input dtype {input.dtype} differs from output dtype {output.dtype}")
    send_counts = _split_counts(source, input_split_sizes, pg.size(), "input")
    receive_counts = _split_counts(target, output_split_sizes, pg.size(), "output")
    _check_same(pg, "all_to_all", source[:0].reshape(-1))
    request = _alltoallv(pg, source, send_counts, target, receive_counts)
    return _finish_work(Work([request], pg, "all_to_all_single", copy_back, (output,)), async_op)


def _split_counts(array, split_sizes, size, name):
    row = int(numpy.prod(array.shape[1:])) if array.ndim else 1
    if not split_sizes:
        if array.ndim == 0 or array.shape[0] % size:
            raise ValueError(f"{name} tensor's dim 0 ({array.shape[:1]}) must divide evenly by the world size {size} "
                             f"when no split sizes are given")
        return [array.size // size] * size
    if len(split_sizes) != size or sum(split_sizes) != array.shape[0]:
        raise ValueError(f"{name}_split_sizes {list(split_sizes)} must have {size} entries summing to dim 0 "
                         f"({array.shape[0]})")
    return [s * row for s in split_sizes]


def _alltoallv(pg, send, send_counts, receive, receive_counts):
    def spec(array, counts):
        flat = _spec(array)
        return [flat[0], (counts, numpy.cumsum([0] + counts[:-1]).tolist()), flat[2]]
    return pg.comm.Ialltoallv(spec(send, send_counts), spec(receive, receive_counts))


def barrier(group=None, async_op=False, device_ids=None):
    """Waits until every rank of the group has reached the barrier."""
    pg = _resolve(group)
    if pg is None:
        return None
    _check_same(pg, "barrier")
    return _finish_work(Work([pg.comm.Ibarrier()], pg, "barrier"), async_op)


def monitored_barrier(group=None, timeout=None, wait_all_ranks=False):
    """A barrier that rank 0 watches: ranks that do not arrive within ``timeout`` are named in the error."""
    pg = _resolve(group)
    if pg is None:
        return None
    limit = timeout if timeout is not None else pg.timeout
    comm, rank, tag = pg.comm, pg.rank(), 0x7E3B
    token = numpy.zeros(1, numpy.uint8)
    if rank != 0:
        _wait([comm.Isend(token, 0, tag)], pg, "monitored_barrier", limit)
        _wait([comm.Irecv(numpy.zeros(1, numpy.uint8), 0, tag)], pg, "monitored_barrier", limit)
        return None
    pending = {r: comm.Irecv(numpy.zeros(1, numpy.uint8), r, tag) for r in range(1, pg.size())}
    deadline = time.monotonic() + limit.total_seconds()
    missing = []
    for r, request in pending.items():
        try:
            _wait([request], pg, "monitored_barrier", max(deadline - time.monotonic(), 0.0))
        except DistBackendError:
            missing.append(pg.ranks[r])
            if not wait_all_ranks:
                break
    if missing:
        ms = int(limit.total_seconds() * 1000)
        if wait_all_ranks:
            raise RuntimeError(f"[Rank 0]: Ranks {', '.join(map(str, missing))} failed to pass monitoredBarrier in "
                               f"{ms} ms")
        raise RuntimeError(f"[Rank 0]: Rank {missing[0]} failed to pass monitoredBarrier in {ms} ms")
    _wait([comm.Isend(token, r, tag) for r in range(1, pg.size())], pg, "monitored_barrier", limit)
    return None


# --- point to point ------------------------------------------------------------------------------------------------
def _peer(pg, peer, group_peer, name):
    rank = _root(pg, peer, group_peer, name)
    if rank == pg.rank():
        raise ValueError(f"Invalid {'destination' if name == 'dst' else 'source'} rank: should not be the same as the "
                         f"rank of the current process.")
    return rank


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Starts sending ``tensor`` to rank ``dst``; returns a Work."""
    pg = _resolve(group)
    if pg is None:
        return None
    array, _ = _array(tensor)
    request = pg.comm.Isend(_spec(array), _peer(pg, dst, group_dst, "dst"), tag)
    return Work([request], pg, "send")


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Starts receiving into ``tensor`` from rank ``src`` (any rank when None); returns a Work."""
    pg = _resolve(group)
    if pg is None:
        return None
    MPI = _mpi.mpi()
    any_source = src is None and group_src is None
    source = MPI.ANY_SOURCE if any_source else _peer(pg, src, group_src, "src")
    array, copy_back = _array(tensor)
    status = MPI.Status()
    request = pg.comm.Irecv(_spec(array), source, tag)
    work = Work([request], pg, "recv", copy_back, (tensor,), [status])

    def finish():
        work._source = pg.ranks[status.Get_source()]
        if copy_back is not None:
            copy_back()
    work._finish = finish
    return work


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Sends ``tensor`` to rank ``dst`` and waits until it is delivered to MPI."""
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


class P2POp:
    """One send or receive for ``batch_isend_irecv``: ``op`` is ``isend`` or ``irecv``."""

    def __init__(self, op, tensor, peer=None, group=None, tag=0, group_peer=None):
        if op not in (isend, irecv):
            raise ValueError("Invalid ``op``. Expected ``op`` to be of type ``torch.distributed.isend`` "
                             "or ``torch.distributed.irecv``.")
        self.op, self.tensor, self.peer, self.group = op, tensor, peer, group
        self.tag, self.group_peer = tag, group_peer


def batch_isend_irecv(p2p_op_list):
    """Starts every send and receive of the list at once; returns their Works."""
    if not p2p_op_list or not all(isinstance(p, P2POp) for p in p2p_op_list):
        raise ValueError("Invalid ``p2p_op_list``. Each op is expected to to be of type ``torch.distributed.P2POp``.")
    return [p.op(p.tensor, p.peer, p.group, p.tag, p.group_peer) for p in p2p_op_list]


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receives into ``tensor`` from rank ``src`` (any rank when None); returns the sender's rank."""
    work = irecv(tensor, src, group, tag, group_src)
    if work is None:
        return -1
    work.wait()
    return work.source_rank
