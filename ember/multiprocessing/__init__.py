"""``ember.multiprocessing`` (``torch.multiprocessing``): Python's multiprocessing, whose pickling sends tensors in
shared memory (``share_memory_``) by reference, plus ``spawn``/``start_processes`` that run ``fn(rank, *args)`` in
``nprocs`` processes and raise the first child's error in the parent."""
import multiprocessing
import multiprocessing.connection
import sys
import traceback
from multiprocessing import *  # noqa: F401,F403

from ..ops import sharing as _sharing  # noqa: F401  (installs share_memory_)

_sharing_strategy = "file_descriptor"


def get_all_sharing_strategies():
    """The ways tensors can be shared: ember passes a memory file's descriptor, PyTorch's 'file_descriptor'."""
    return {"file_descriptor"}


def get_sharing_strategy():
    """The current sharing strategy ('file_descriptor')."""
    return _sharing_strategy


def set_sharing_strategy(new_strategy):
    """Selects how tensors are shared; ember supports 'file_descriptor' only."""
    if new_strategy not in get_all_sharing_strategies():
        raise ValueError(f"sharing strategy {new_strategy!r} is not supported by ember (only 'file_descriptor')")


class ProcessException(Exception):
    """A child process of ``spawn`` failed."""

    def __init__(self, msg, error_index, pid):
        super().__init__(msg)
        self.msg, self.error_index, self.pid = msg, error_index, pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """A child process raised; the message holds its traceback."""


class ProcessExitedException(ProcessException):
    """A child process exited with a non-zero code (or a signal) without raising."""

    def __init__(self, msg, error_index, error_pid, exit_code, signal_name=None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid, self.exit_code, self.signal_name)


def _run(fn, rank, args, error_queue):
    try:
        fn(rank, *args)
    except KeyboardInterrupt:
        pass
    except Exception:
        error_queue.put(traceback.format_exc())
        sys.exit(1)


class ProcessContext:
    """The processes ``start_processes`` started; ``join`` waits for them and raises the first failure."""

    def __init__(self, processes, error_queues):
        self.processes, self.error_queues = processes, error_queues
        self.sentinels = {process.sentinel: index for index, process in enumerate(processes)}

    def pids(self):
        """The children's process ids."""
        return [process.pid for process in self.processes]

    def join(self, timeout=None):
        """Waits up to ``timeout`` seconds; True once every child ended well. On a failure, ends the others and
        raises ProcessRaisedException (the child's traceback) or ProcessExitedException."""
        if not self.sentinels:
            return True
        failed = None
        for sentinel in multiprocessing.connection.wait(list(self.sentinels), timeout):
            index = self.sentinels.pop(sentinel)
            self.processes[index].join()
            if self.processes[index].exitcode != 0:
                failed = index
                break
        if failed is None:
            return not self.sentinels
        for process in self.processes:
            if process.is_alive():
                process.terminate()
            process.join()
        process, queue = self.processes[failed], self.error_queues[failed]
        if queue.empty():
            code = process.exitcode
            if code < 0:
                import signal
                name = signal.Signals(-code).name
                raise ProcessExitedException(f"process {failed} terminated with signal {name}", failed, process.pid,
                                             code, name)
            raise ProcessExitedException(f"process {failed} terminated with exit code {code}", failed, process.pid,
                                         code)
        raise ProcessRaisedException(f"\n\n-- Process {failed} terminated with the following error:\n{queue.get()}",
                                     failed, process.pid)


SpawnContext = ProcessContext


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """Runs ``fn(rank, *args)`` for rank 0..nprocs-1, each in its own process of ``start_method``; waits for them
    when ``join`` (raising the first failure), otherwise returns their ``ProcessContext``."""
    context = multiprocessing.get_context(start_method)
    processes, queues = [], []
    for rank in range(nprocs):
        queue = context.SimpleQueue()
        process = context.Process(target=_run, args=(fn, rank, args, queue), daemon=daemon)
        process.start()
        processes.append(process)
        queues.append(queue)
    result = ProcessContext(processes, queues)
    if not join:
        return result
    while not result.join():
        pass


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """``start_processes`` with the 'spawn' start method (PyTorch's ``torch.multiprocessing.spawn``)."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)
