"""mpi4py, imported on first use, and the translation of ember dtypes and ``ReduceOp`` into MPI datatypes and ops."""
import enum
import faulthandler
import functools
import signal
import sys
import threading
import time
import warnings

import numpy

INSTALL_HINT = "pip install 'ember[distributed]' (the mpi4py and mpich packages)"


_MPI = IN_PLACE = BYTE = None   # mpi4py's module and constants, set by the first ``mpi()``


def mpi():
    """The ``mpi4py.MPI`` module (MPI itself is started by ``initialize``); a RuntimeError saying what to install
    when it is missing."""
    global _MPI, IN_PLACE, BYTE
    if _MPI is not None:
        return _MPI
    try:
        if "mpi4py.MPI" not in sys.modules:
            import mpi4py
            mpi4py.rc.initialize, mpi4py.rc.finalize = False, True
        from mpi4py import MPI
    except ImportError as error:
        raise RuntimeError(f"ember.distributed runs on MPI through mpi4py, which is not installed: {INSTALL_HINT}") \
            from error
    _MPI, IN_PLACE, BYTE = MPI, MPI.IN_PLACE, MPI.BYTE
    return MPI


def initialize(timeout):
    """Starts MPI. Under mpiexec ``MPI_Init`` blocks (holding the GIL) until every rank has called it, so a watchdog
    outside Python bounds it: after ``timeout`` seconds faulthandler prints where this rank waits and SIGALRM ends
    it, which mpiexec answers by ending every rank of the job."""
    MPI = mpi()
    if MPI.Is_initialized():
        return MPI
    watched = threading.current_thread() is threading.main_thread()
    if watched:
        previous = signal.signal(signal.SIGALRM, signal.SIG_DFL)
        faulthandler.dump_traceback_later(timeout)
        signal.setitimer(signal.ITIMER_REAL, timeout + 0.2)
    try:
        MPI.Init_thread(MPI.THREAD_MULTIPLE)
    finally:
        if watched:
            signal.setitimer(signal.ITIMER_REAL, 0)
            faulthandler.cancel_dump_traceback_later()
            signal.signal(signal.SIGALRM, previous)
    return MPI


class RedOpType(enum.Enum):
    """The reduction operations of ``all_reduce``, ``reduce`` and ``reduce_scatter``."""
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8

    def __repr__(self):
        return f"<RedOpType.{self.name}: {self.value}>"

    __hash__ = object.__hash__   # Enum's hashes the name in Python; members are singletons, so identity is enough


class ReduceOp:
    """PyTorch's ``ReduceOp`` namespace: ``ReduceOp.SUM``, ``ReduceOp.AVG``, ... (members of ``RedOpType``)."""
    RedOpType = RedOpType
    SUM, AVG, PRODUCT, MIN, MAX = RedOpType.SUM, RedOpType.AVG, RedOpType.PRODUCT, RedOpType.MIN, RedOpType.MAX
    BAND, BOR, BXOR, PREMUL_SUM = RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR, RedOpType.PREMUL_SUM


class _reduce_op:
    """Deprecated enum-like namespace, PyTorch's ``torch.distributed.reduce_op``: the members of ``RedOpType``
    (``reduce_op.SUM``, ...); every attribute read warns (FutureWarning) to use ``ReduceOp`` instead."""

    def __init__(self):
        for name, member in RedOpType.__members__.items():
            setattr(self, name, member)
        self.__members__ = RedOpType.__members__

    def __getattribute__(self, key):
        warnings.warn("`torch.distributed.reduce_op` is deprecated, please use `torch.distributed.ReduceOp` instead",
                      FutureWarning, stacklevel=2)
        return object.__getattribute__(self, key)


reduce_op = _reduce_op()


_BITWISE = (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR)
# torch reduces bool tensors as logical operations: SUM and MAX are "any", PRODUCT and MIN are "all".
_BOOL_OPS = {RedOpType.SUM: "LOR", RedOpType.AVG: "LOR", RedOpType.MAX: "LOR", RedOpType.PRODUCT: "LAND",
             RedOpType.MIN: "LAND", RedOpType.BAND: "LAND", RedOpType.BOR: "LOR", RedOpType.BXOR: "LXOR"}
_MPI_OPS = {RedOpType.SUM: "SUM", RedOpType.AVG: "SUM", RedOpType.PRODUCT: "PROD", RedOpType.MIN: "MIN",
            RedOpType.MAX: "MAX", RedOpType.BAND: "BAND", RedOpType.BOR: "BOR", RedOpType.BXOR: "BXOR"}
_UFUNCS = {RedOpType.SUM: numpy.add, RedOpType.AVG: numpy.add, RedOpType.PRODUCT: numpy.multiply,
           RedOpType.MIN: numpy.minimum, RedOpType.MAX: numpy.maximum, RedOpType.BAND: numpy.bitwise_and,
           RedOpType.BOR: numpy.bitwise_or, RedOpType.BXOR: numpy.bitwise_xor}


def as_op(op):
    """``op`` as a RedOpType, with torch's errors for what cannot be reduced."""
    if isinstance(op, RedOpType):
        if op is RedOpType.PREMUL_SUM:
            raise ValueError(f"ReduceOp.{op.name} is not supported by ember.distributed")
        return op
    raise TypeError(f"op must be a torch.distributed.ReduceOp, got {type(op).__name__}")


def check_op_dtype(op, dtype):
    """Bitwise ops need integer or bool elements, as in torch."""
    if op in _BITWISE and dtype.kind not in "iub":
        raise RuntimeError(f"Cannot use ReduceOp.{op.name} with non-integral dtype")
    if dtype.kind == "c" and op in (RedOpType.MIN, RedOpType.MAX, RedOpType.PRODUCT):
        raise RuntimeError(f"all_reduce does not support ReduceOp.{op.name} on complex tensors")


@functools.cache
def reduction(op, dtype):
    """The MPI datatype and op that reduce ``dtype`` elements by ``op`` (a ReduceOp), after checking that the pair is
    allowed. Cached, so a repeated call costs one lookup."""
    check_op_dtype(as_op(op), dtype)
    return datatype(dtype), mpi_op(op, dtype)


@functools.lru_cache(maxsize=None)
def datatype(dtype):
    """The MPI datatype of a NumPy dtype: MPI's own where it has one, else a block of bytes per element."""
    MPI = mpi()
    if dtype.char in "efdbBhHiIlLqQFD?":
        return MPI.Datatype.fromcode(dtype.char)
    return MPI.BYTE.Create_contiguous(dtype.itemsize).Commit()


@functools.lru_cache(maxsize=None)
def mpi_op(op, dtype):
    """The MPI op reducing ``dtype`` elements by ``op``: MPI's builtin, or a NumPy ufunc for dtypes MPI lacks
    (bfloat16)."""
    MPI = mpi()
    if dtype.kind == "b":
        return getattr(MPI, _BOOL_OPS[op])
    if dtype.char in "efdbBhHiIlLqQFD":
        return getattr(MPI, _MPI_OPS[op])
    ufunc = _UFUNCS[op]

    def reduce(inbuf, inoutbuf, _datatype):
        source = numpy.frombuffer(inbuf, dtype)
        ufunc(source, numpy.frombuffer(inoutbuf, dtype), out=numpy.frombuffer(inoutbuf, dtype))

    return MPI.Op.Create(reduce, commute=True)


_FORWARD_SECONDS = 0.5
"""How long a failing rank waits between writing its error and aborting: mpiexec kills the job's I/O proxies on
abort, and without the pause the error sometimes never reaches the terminal (seen about one run in three)."""


def abort_job(comm, message, code=1):
    """Writes ``message`` (if any) to stderr under this rank's number and aborts every rank of the job with
    ``code``."""
    if message:
        rank = comm.Get_rank()
        sys.stderr.write(f"[rank {rank}] {message}[rank {rank}] aborting the job\n")
    sys.stderr.flush()
    time.sleep(_FORWARD_SECONDS)
    comm.Abort(code)
