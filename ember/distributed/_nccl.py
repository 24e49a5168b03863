"""The 'nccl' backend's GPU path: collectives on CUDA tensors through NCCL (CuPy's ``cupy.cuda.nccl``), with no copy
through host memory.

A group's NCCL communicator is made on its first collective on CUDA tensors: rank 0 draws NCCL's unique id and MPI
broadcasts it. NCCL needs one GPU per rank; where ranks share a GPU (several ranks on one card), or an op or dtype has
no NCCL equivalent (bitwise reductions, bool), the collective takes MPI's path through host memory instead, so every
call still works.
"""
from .. import _backend
from .process_group import Backend

_DTYPES = {"float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64", "int8": "NCCL_INT8",
           "uint8": "NCCL_UINT8", "int32": "NCCL_INT32", "int64": "NCCL_INT64"}
_OPS = {"SUM": "NCCL_SUM", "PRODUCT": "NCCL_PROD", "MIN": "NCCL_MIN", "MAX": "NCCL_MAX", "AVG": "NCCL_AVG"}


def _module():
    from cupy.cuda import nccl   # CuPy is loaded: a CUDA tensor is at hand
    return nccl


def communicator(pg, tensor):
    """The group's NCCL communicator for collectives on ``tensor``, or None where MPI's host path must carry them
    (not the 'nccl' backend, a CPU tensor, or ranks sharing a GPU). Collective: every rank of ``pg`` calls it."""
    if pg.backend != Backend.NCCL or tensor.device.type != "cuda":
        return None
    if pg.nccl is None:
        cupy = _backend._load_cupy()
        card = cupy.cuda.Device().pci_bus_id
        cards = pg.comm.allgather(card)
        if len(set(cards)) < len(cards):
            pg.nccl = False   # NCCL refuses two ranks on one GPU
        else:
            nccl = _module()
            uid = pg.comm.bcast(nccl.get_unique_id() if pg.comm.Get_rank() == 0 else None, root=0)
            pg.nccl = nccl.NcclCommunicator(pg.comm.Get_size(), uid, pg.comm.Get_rank())
    return pg.nccl or None


def dtype_code(array):
    """NCCL's datatype for the array, or None where NCCL has none."""
    name = _DTYPES.get(array.dtype.name)
    return None if name is None else getattr(_module(), name, None)


def op_code(op):
    """NCCL's reduction for a ReduceOp, or None (the bitwise ones)."""
    name = _OPS.get(getattr(op, "name", str(op)).upper().rpartition(".")[2])
    return None if name is None else getattr(_module(), name, None)


def _stream():
    return _backend._load_cupy().cuda.get_current_stream()


def all_reduce(comm, array, op):
    """Starts an in-place allreduce of a contiguous CUDA array on the current stream; returns that stream."""
    stream = _stream()
    comm.allReduce(array.data.ptr, array.data.ptr, array.size, dtype_code(array), op_code(op), stream.ptr)
    return stream


def broadcast(comm, array, root):
    """Starts an in-place broadcast from group rank ``root``; returns the stream."""
    stream = _stream()
    comm.broadcast(array.data.ptr, array.data.ptr, array.size, dtype_code(array), root, stream.ptr)
    return stream


def all_gather(comm, output, array):
    """Starts gathering every rank's ``array`` into ``output`` (ranks' parts one after another); returns the
    stream."""
    stream = _stream()
    comm.allGather(array.data.ptr, output.data.ptr, array.size, dtype_code(array), stream.ptr)
    return stream


def usable(array, op=None):
    """Whether NCCL can carry this contiguous array (and reduction ``op``)."""
    return array.flags.c_contiguous and dtype_code(array) is not None and (op is None or op_code(op) is not None)
