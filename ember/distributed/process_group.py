"""Process groups on MPI communicators: ``init_process_group``, ``new_group`` and the rank queries.

The world is MPI's ``COMM_WORLD``: ``mpiexec``, ``python -m ember.distributed.run`` and ``ember.multiprocessing.spawn``
all start the ranks through MPI, so ``init_process_group`` only checks that the rank and world size a program asks for
agree with MPI's, then waits (up to ``timeout``) for every rank to arrive.
"""
import datetime
import io
import os
import sys

from . import _mpi, debug
from ._requests import wait

__all__ = ["Backend", "BackendConfig", "GroupMember", "ProcessGroup", "destroy_process_group", "get_backend",
           "get_global_rank", "get_group_rank", "get_process_group_ranks", "get_rank", "get_world_size", "group",
           "init_process_group", "is_available", "is_initialized", "is_mpi_available", "is_gloo_available",
           "is_nccl_available", "new_group"]

default_pg_timeout = datetime.timedelta(minutes=30)


class Backend(str):
    """A backend name: ``Backend.GLOO``, ``Backend.MPI`` or ``Backend.NCCL``, all carried by MPI on the CPU."""
    UNDEFINED, GLOO, NCCL, MPI = "undefined", "gloo", "nccl", "mpi"
    backend_list = [GLOO, NCCL, MPI]

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got: {type(name).__name__}")
        value = name.lower()
        if "," in value or ":" in value:   # "cpu:gloo,cuda:nccl" picks per device; the CPU entry names the group
            pairs = dict(part.split(":", 1) for part in value.split(","))
            value = pairs.get("cpu", next(iter(pairs.values())))
        if value not in cls.backend_list:
            raise ValueError(f"Invalid backend: '{name}'")
        return str.__new__(cls, value)


class BackendConfig:
    """The backend each device type uses in a group: ``"gloo"`` means ``cpu:gloo,cuda:gloo``; a
    ``"cpu:gloo,cuda:nccl"`` string names them one by one; no backend picks the machine's accelerator's default."""
    capability = {Backend.GLOO: ["cpu", "cuda"], Backend.NCCL: ["cuda"], Backend.MPI: ["cpu", "cuda"]}

    def __init__(self, backend):
        backend = str(backend).lower()
        if backend == Backend.UNDEFINED:
            from .. import cuda
            device = "cuda" if cuda.is_available() else "cpu"
            self.device_backend_map = {device: Backend("nccl" if device == "cuda" else "gloo")}
        elif ":" in backend:
            self.device_backend_map = {}
            for pair in backend.split(","):
                if pair.count(":") != 1:
                    raise ValueError(f"Invalid device:backend pairing: {pair}. The backend string must be in the "
                                     f"format \"<device_type1>:<backend1>,<device_type2>:<backend2>...\"")
                device, name = pair.split(":")
                if device in self.device_backend_map:
                    raise ValueError(f"Duplicate device type {device} in backend string: {backend}.")
                self.device_backend_map[device] = Backend(name)
        else:
            name = Backend(backend)
            self.device_backend_map = dict.fromkeys(self.capability[name], name)

    def get_device_backend_map(self):
        """The {device type: backend} map."""
        return self.device_backend_map

    def __repr__(self):
        return ",".join(f"{device}:{backend}" for device, backend in self.device_backend_map.items())


class ProcessGroup:
    """A set of ranks sharing an MPI communicator. ``rank()`` and ``size()`` are this process's place in it."""

    def __init__(self, comm, ranks, backend, timeout):
        self.comm, self.ranks, self.backend, self.timeout = comm, list(ranks), Backend(backend), timeout
        self.backend_config = repr(BackendConfig(backend))
        # Whether collectives first compare their arguments across ranks (one rank cannot disagree with itself).
        # The debug level is read once, when the group is made, as torch reads it once: looking it up on every
        # call cost more than the rest of a small call.
        self.checked = len(self.ranks) > 1 and debug.checks_collectives()
        self._group_rank = {global_rank: i for i, global_rank in enumerate(self.ranks)}
        self.nccl = None   # the NCCL communicator, made on first use on CUDA tensors

    def rank(self):
        """This process's rank in the group."""
        return self.comm.Get_rank()

    def size(self):
        """The number of ranks in the group."""
        return self.comm.Get_size()

    def name(self):
        return self.backend.upper()

    def group_rank(self, global_rank, what="rank"):
        """The rank in this group of a global rank; ValueError when it is not a member."""
        try:
            return self._group_rank[global_rank]
        except (KeyError, TypeError):
            raise ValueError(f"{what} {global_rank} is not part of the group (global ranks {self.ranks})") from None

    def __repr__(self):
        return f"<ProcessGroup backend={self.backend} ranks={self.ranks}>"


class _NonGroupMember:
    def __repr__(self):
        return "GroupMember.NON_GROUP_MEMBER"


NON_GROUP_MEMBER = _NonGroupMember()
_world = None
_group_count = 0   # groups made since init_process_group, members or not (torch's get_pg_count)


class _WorldMeta(type):
    @property
    def WORLD(cls):
        return _world


class GroupMember(metaclass=_WorldMeta):
    """``GroupMember.WORLD`` is the default group; ``new_group`` returns ``NON_GROUP_MEMBER`` on ranks outside it."""
    NON_GROUP_MEMBER = NON_GROUP_MEMBER


class group(metaclass=_WorldMeta):
    """``group.WORLD``: the default process group."""


def _rank_not_in_group(group):
    """Whether this rank is outside ``group`` (``new_group`` gave it ``NON_GROUP_MEMBER``); None is the default group.
    pytorch-ignite's all_gather asks it before gathering."""
    return group is not None and group is NON_GROUP_MEMBER


def is_available():
    """True when mpi4py (the transport) is installed. MPI itself is not loaded here: mpi4py loaded by ember waits
    for ``init_process_group`` to start MPI, and a library asking first (Lightning's MPI environment probe) would
    find it stopped."""
    try:
        import mpi4py  # noqa: F401  (the package only; its MPI module starts MPI)
    except ImportError:
        return False
    return True


is_mpi_available = is_gloo_available = is_available


def is_nccl_available():
    """True when CuPy with NCCL and a CUDA GPU are present."""
    from .. import cuda
    if not cuda.is_available():
        return False
    try:
        from cupy.cuda import nccl  # noqa: F401
    except ImportError:
        return False
    return True


def is_initialized():
    """True once ``init_process_group`` has run (and ``destroy_process_group`` has not)."""
    return _world is not None


def is_torchelastic_launched():
    """True in ranks started by ``python -m ember.distributed.run``."""
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Joins this process to the job's default group. Rank and world size come from MPI; any given here (or in the
    ``RANK``/``WORLD_SIZE`` environment of ``env://``) must agree with them. A ``store`` needs ``rank`` and
    ``world_size`` as in torch but is not used: MPI, not the store, brings the ranks together."""
    global _world, _group_count
    if _world is not None:
        raise ValueError("trying to initialize the default process group twice!")
    config = repr(BackendConfig(backend if backend is not None else Backend.UNDEFINED))
    backend = Backend(backend if backend is not None else "gloo")
    if timeout is None:
        timeout = default_pg_timeout
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got {type(timeout).__name__}")
    if store is not None and init_method is not None:
        raise ValueError("Cannot specify both init_method and store.")
    if store is not None:   # MPI meets the ranks; a store is accepted and left unused, as the docstring says
        if world_size <= 0:
            raise AssertionError("world_size must be positive if using store")
        if rank < 0:
            raise AssertionError("rank must be non-negative if using store")
    if init_method is None or init_method.startswith("env://"):
        rank = rank if rank != -1 else int(os.environ.get("RANK", -1))
        world_size = world_size if world_size != -1 else int(os.environ.get("WORLD_SIZE", -1))
    elif not init_method.startswith(("tcp://", "file://")):
        raise ValueError(f"Unrecognized init_method: {init_method!r} (expected env://, tcp:// or file://)")
    MPI = _mpi.mpi()
    if backend == Backend.NCCL and not is_nccl_available():
        raise RuntimeError("ProcessGroupNCCL is only supported with GPUs, no GPUs found! (the 'nccl' backend needs "
                           "a CUDA GPU and CuPy; use backend='gloo' on the CPU)")
    _mpi.initialize(timeout.total_seconds())
    _install_abort_on_error(MPI)
    comm = MPI.COMM_WORLD
    _check_matches(comm, rank, world_size)
    # every rank must arrive within the timeout before the blocking Dup
    wait([comm.Ibarrier()], ProcessGroup(comm, range(comm.Get_size()), backend, timeout), "init_process_group")
    _world = ProcessGroup(comm.Dup(), range(comm.Get_size()), backend, timeout)
    _world.backend_config, _group_count = config, 1


def _check_matches(comm, rank, world_size):
    """The rank and world size a program asks for must be MPI's."""
    if comm.Get_size() == 1 and (world_size > 1 or rank > 0):
        raise RuntimeError(f"init_process_group asked for rank {rank} of world_size {world_size} in a process "
                           f"started alone. ember.distributed runs on MPI: start the ranks with `mpiexec -n N python "
                           f"script.py`, `python -m ember.distributed.run --nproc-per-node N script.py` or "
                           f"ember.multiprocessing.spawn.")
    for name, asked, actual in (("world_size", world_size, comm.Get_size()), ("rank", rank, comm.Get_rank())):
        if asked != -1 and asked != actual:
            raise ValueError(f"init_process_group was given {name}={asked} but MPI started this process with "
                             f"{name} {actual}")


def _install_abort_on_error(MPI):
    """An uncaught exception on one rank prints as PyTorch's excepthook prints it (what the previous hook writes,
    every line under ``[rank<r>]: ``) and aborts the whole job: under plain ``mpiexec`` the other ranks would
    otherwise wait forever in their next collective."""
    previous = sys.excepthook

    def abort(kind, value, tb):
        if kind is KeyboardInterrupt or MPI.Is_finalized():
            return previous(kind, value, tb)
        write_as_torch(previous, MPI.COMM_WORLD.Get_rank(), kind, value, tb)
        _mpi.abort_job(MPI.COMM_WORLD, "")

    sys.excepthook = abort


def write_as_torch(hook, rank, kind, value, tb):
    """Writes an uncaught exception as PyTorch's distributed excepthook does: what ``hook`` prints, every line under
    ``[rank<r>]: ``."""
    stderr, sys.stderr = sys.stderr, io.StringIO()
    try:
        hook(kind, value, tb)
    finally:
        text, sys.stderr = sys.stderr.getvalue(), stderr
    sys.stderr.write("\n".join(f"[rank{rank}]: {line}" if line else "" for line in text.split("\n")))


def _resolve(group):
    """The ProcessGroup a collective runs on; None when this rank is not a member."""
    if group is None or group is GroupMember.WORLD:
        if _world is None:
            raise ValueError("Default process group has not been initialized, please make sure to call "
                             "init_process_group.")
        return _world
    if group is NON_GROUP_MEMBER:
        return None
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"group must be a ProcessGroup, got {type(group).__name__}")
    return group


def get_rank(group=None):
    """This process's rank in ``group`` (the world by default); -1 when it is not a member."""
    pg = _resolve(group)
    return -1 if pg is None else pg.rank()


def get_world_size(group=None):
    """The number of ranks in ``group``; -1 for a group this process is not part of."""
    pg = _resolve(group)
    return -1 if pg is None else pg.size()


def get_backend(group=None):
    """The backend name of ``group``."""
    pg = _resolve(group)
    if pg is None:
        raise ValueError("Invalid process group specified")
    return pg.backend


def get_process_group_ranks(group):
    """The global ranks of ``group``'s members, in group-rank order."""
    pg = _resolve(group)
    return list(pg.ranks)


def get_global_rank(group, group_rank):
    """The global rank of ``group_rank`` in ``group``."""
    ranks = get_process_group_ranks(group)
    if not 0 <= group_rank < len(ranks):
        raise ValueError(f"Group rank {group_rank} is not part of group {ranks}")
    return ranks[group_rank]


def get_group_rank(group, global_rank):
    """The rank in ``group`` of the process with global rank ``global_rank``."""
    return _resolve(group).group_rank(global_rank, "Global rank")


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None, device_id=None):
    """A group of the given global ranks (all ranks by default). Every rank must call it, as in torch; ranks outside
    the group get ``GroupMember.NON_GROUP_MEMBER``."""
    global _group_count
    world = _resolve(None)
    size = world.size()
    ranks = sorted(range(size) if ranks is None else ranks)
    if len(set(ranks)) != len(ranks):
        raise ValueError(f"new_group got duplicate ranks: {ranks}")
    for r in ranks:
        if not 0 <= r < size:
            raise ValueError(f"The new group's rank should be within the world_size set by init_process_group, "
                             f"got rank {r} for world size {size}")
    MPI = _mpi.mpi()
    member = world.rank() in ranks
    comm = world.comm.Split(0 if member else MPI.UNDEFINED, world.rank())
    _group_count += 1
    if not member:
        return NON_GROUP_MEMBER
    return ProcessGroup(comm, ranks, backend or world.backend_config, timeout or world.timeout)


def destroy_process_group(group=None):
    """Frees ``group``'s communicator; with no argument, leaves the default group (``is_initialized()`` is False)."""
    global _world, _group_count
    pg = _resolve(group)
    if pg is None:
        return
    pg.comm.Free()
    if pg is _world:
        _world, _group_count = None, 0
