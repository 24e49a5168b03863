"""``spawn``/``start_processes``: runs ``fn(i, *args)`` in ``nprocs`` new processes.

With MPI available the processes are one MPI job started by ``mpiexec``, so ``init_process_group(rank=i,
world_size=nprocs)`` inside ``fn`` works as in PyTorch's DDP tutorial (independently started processes cannot form an
MPI world with the PyPI MPICH: its ``Comm_accept``/``Comm_connect`` fails, pmodels/mpich#7805). Without MPI they are
plain ``multiprocessing`` processes. Either way a failing process ends the others and its traceback is re-raised here.
"""
import multiprocessing
import multiprocessing.connection
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from multiprocessing.reduction import ForkingPickler

__all__ = ["ProcessContext", "ProcessExitedException", "ProcessRaisedException", "SpawnContext", "spawn",
           "start_processes"]


class ProcessException(Exception):
    def __init__(self, msg, error_index=-1, pid=None):
        super().__init__(msg)
        self.msg, self.error_index, self.pid = msg, error_index, pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """A spawned process raised: the message carries its traceback."""


class ProcessExitedException(ProcessException):
    """A spawned process exited with a non-zero code or was killed by a signal."""

    def __init__(self, msg, error_index=-1, error_pid=None, exit_code=None, signal_name=None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid, self.exit_code, self.signal_name)


def mpiexec_path():
    """The ``mpiexec`` of this Python's environment (pip's mpich puts it beside the interpreter), else on PATH."""
    beside = pathlib.Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def _mpi_ready():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return mpiexec_path() is not None


class ProcessContext:
    """The started processes; ``join(timeout)`` returns True once all have exited successfully, False while some
    still run, and raises the first failure (after ending the rest)."""

    def __init__(self, directory, processes=None, job=None):
        self._directory, self.processes, self._job = directory, processes or [], job

    def pids(self):
        return [p.pid for p in self.processes] if self.processes else [self._job.pid]

    def join(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        if self._job is not None:
            try:
                code = self._job.wait(timeout)
            except subprocess.TimeoutExpired:
                return False
            if code != 0:
                self._raise(code, -1, self._job.pid)
            self._cleanup()
            return True
        while True:
            alive = [p for p in self.processes if p.exitcode is None]
            failed = [(i, p) for i, p in enumerate(self.processes) if p.exitcode not in (None, 0)]
            if failed:
                for p in alive:
                    p.terminate()
                for p in alive:
                    p.join()
                index, process = failed[0]
                self._raise(process.exitcode, index, process.pid)
            if not alive:
                self._cleanup()
                return True
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            multiprocessing.connection.wait([p.sentinel for p in alive], left)

    def _raise(self, code, index, pid):
        errors = sorted(self._directory.glob("error-*"), key=lambda path: int(path.name.split("-")[1]))
        if errors:
            index = int(errors[0].name.split("-")[1])
            pid, _, trace = errors[0].read_text().partition("\n")
            self._cleanup()
            raise ProcessRaisedException(f"\n\n-- Process {index} terminated with the following error:\n{trace}",
                                         index, int(pid))
        self._cleanup()
        if code < 0:
            name = signal.Signals(-code).name
            raise ProcessExitedException(f"process {index} terminated with signal {name}", index, pid,
                                         signal_name=name)
        raise ProcessExitedException(f"process {index} terminated with exit code {code}", index, pid, exit_code=code)

    def _cleanup(self):
        shutil.rmtree(self._directory, ignore_errors=True)


SpawnContext = ProcessContext


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """Runs ``fn(i, *args)`` for i in ``range(nprocs)``, each in its own process (an MPI rank when mpi4py and mpiexec
    are installed); with ``join`` waits for all and re-raises a failure, else returns the ProcessContext."""
    if not isinstance(nprocs, int) or nprocs < 1:
        raise ValueError(f"nprocs must be a positive integer, got {nprocs!r}")
    directory = pathlib.Path(tempfile.mkdtemp(prefix="ember-spawn-"))
    if _mpi_ready():
        context = _start_mpi_job(fn, args, nprocs, directory)
    else:
        ctx = multiprocessing.get_context(start_method)
        processes = [ctx.Process(target=_run, args=(fn, i, args, str(directory)), daemon=daemon)
                     for i in range(nprocs)]
        for p in processes:
            p.start()
        context = ProcessContext(directory, processes)
    if not join:
        return context
    while not context.join():
        pass


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """``start_processes`` with the 'spawn' start method, as ``torch.multiprocessing.spawn``."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)


def _start_mpi_job(fn, args, nprocs, directory):
    from multiprocessing.spawn import get_preparation_data
    preparation = get_preparation_data("ember-spawn")
    preparation.pop("authkey", None)   # an MPI rank is not a multiprocessing child: it needs no key to reach us
    with open(directory / "payload", "wb") as f:
        ForkingPickler(f).dump(preparation)
        ForkingPickler(f).dump((fn, args))
    paths = [p for p in sys.path if p] + [os.environ.get("PYTHONPATH", "")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in paths if p))
    command = [mpiexec_path(), "-n", str(nprocs), sys.executable, "-m", "ember.multiprocessing._child", str(directory)]
    return ProcessContext(directory, job=subprocess.Popen(command, env=env))


def _run(fn, index, args, directory):
    """A child's body: runs ``fn(index, *args)``; a failure leaves its traceback in ``directory``."""
    try:
        fn(index, *args)
    except KeyboardInterrupt:
        pass
    except BaseException as error:
        if isinstance(error, SystemExit) and not error.code:
            return
        _record(directory, index)
        sys.exit(1)


def _record(directory, index):
    import traceback
    path = pathlib.Path(directory) / f"error-{index}"
    path.write_text(f"{os.getpid()}\n{traceback.format_exc()}")
