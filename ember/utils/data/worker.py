"""What runs inside a DataLoader worker process, and ``get_worker_info`` for datasets that shard their work."""
import dataclasses
import os
import queue
import random
import sys
import traceback

import numpy

import ember

from . import _pipe, _shared_memory
from ._fetch import _DatasetKind

__all__ = ["WorkerInfo", "get_worker_info"]

# How often a waiting worker checks whether the main process is still there.
_POLL_INTERVAL = 0.5


@dataclasses.dataclass(frozen=True, slots=True)
class WorkerInfo:
    """Facts about the current worker: ``id``, ``num_workers``, ``seed``, its copy of the ``dataset``, and PyTorch's
    ``rng`` (None) and ``worker_method``; frozen, as PyTorch's."""

    id: int
    num_workers: int
    seed: int
    dataset: object
    rng: object = None
    worker_method: str = "multiprocessing"


_worker_info = None


def get_worker_info():
    """The ``WorkerInfo`` of the DataLoader worker process calling it, or None in the main process."""
    return _worker_info


class ExceptionWrapper:
    """An exception raised in a worker, carried to the main process as its type and formatted traceback."""

    def __init__(self, exc_type, message):
        self.exc_type, self.message = exc_type, message

    @classmethod
    def capture(cls, where):
        """Wraps the exception being handled."""
        exc_type, exc, tb = sys.exc_info()
        formatted = "".join(traceback.format_exception(exc_type, exc, tb))
        return cls(exc_type, f"Caught {exc_type.__name__} {where}.\nOriginal {formatted}")

    def reraise(self):
        """Raises the worker's exception type with the worker's traceback as the message."""
        if self.exc_type is KeyError:
            # KeyError shows its argument with repr(), which would print the traceback as one escaped line.
            raise KeyError(_KeyErrorMessage(self.message))
        try:
            exception = self.exc_type(self.message)
        except Exception:
            raise RuntimeError(self.message) from None
        raise exception


class _KeyErrorMessage(str):
    def __repr__(self):
        return self


class ResumeIteration:
    """Sent to persistent workers at the start of a new epoch; they answer with ``Resumed``."""


class Resumed:
    """A persistent worker's answer to ``ResumeIteration``: it is ready for the new epoch."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


class IterableExhausted:
    """Sent by a worker whose copy of an iterable dataset has run out."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


def _generate_state(base_seed, worker_id):
    """The NumPy seed of worker ``worker_id`` (four 32-bit ints): PyTorch's, which is NumPy's SeedSequence of
    ``[worker_id, base_seed]`` (tensordict seeds its own workers with it)."""
    return numpy.random.SeedSequence([worker_id, base_seed]).generate_state(4).tolist()


def _seed_worker(base_seed, worker_id):
    """Seeds Python's, NumPy's and ember's RNGs from ``base_seed + worker_id``; returns that seed."""
    seed = base_seed + worker_id
    random.seed(seed)
    ember.manual_seed(seed)
    numpy.random.seed(_generate_state(base_seed, worker_id))
    return seed


def _send(result_conn, idx, payload, where, fds=()):
    """Sends ``(idx, payload)`` with descriptors ``fds`` to the main process, and closes them; a result that cannot be
    pickled is sent as the error saying so, so that the main process never waits for it. Returns whether the
    payload went."""
    try:
        _pipe.send(result_conn, (idx, payload), fds)
        return True
    except Exception:
        if isinstance(payload, ExceptionWrapper):  # the exception's type cannot be pickled: keep its traceback text
            failure = ExceptionWrapper(RuntimeError, f"{payload.message}\n(The exception's type, "
                                                     f"{payload.exc_type.__qualname__}, cannot be pickled.)")
        else:
            failure = ExceptionWrapper.capture(f"{where} while pickling a batch to send it to the main process")
        _pipe.send(result_conn, (idx, failure))
        return False
    finally:
        for fd in fds:
            os.close(fd)


def _worker_loop(dataset_kind, dataset, index_queue, result_conn, done_event, auto_collation, collate_fn, drop_last,
                 base_seed, init_fn, worker_id, num_workers, parent_pid):
    """Serves tasks ``(idx, indices, block_id)`` from ``index_queue`` until it gets None or the parent dies, sending
    ``(idx, PackedBatch | ExceptionWrapper | IterableExhausted)`` through ``result_conn``."""
    global _worker_info
    where = f"in DataLoader worker process {worker_id}"
    try:
        ember.set_num_threads(1)   # as PyTorch's workers: the main process's threads already fill the cores
        seed = _seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        init_error = fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_error = ExceptionWrapper.capture(where)
        exhausted, blocks = False, _shared_memory.BlockWriter()
        while True:
            try:
                task = index_queue.get(timeout=_POLL_INTERVAL)
            except queue.Empty:
                if os.getppid() != parent_pid:
                    break
                continue
            if task is None or done_event.is_set():
                break
            if isinstance(task, ResumeIteration):
                if init_error is None:
                    fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation, collate_fn, drop_last)
                exhausted = False
                _send(result_conn, None, Resumed(worker_id), where)
                continue
            if exhausted:
                continue
            idx, indices, block_id = task
            if init_error is not None:
                _send(result_conn, idx, init_error, where)
                continue
            fds = ()
            try:
                payload, fds = blocks.pack(fetcher.fetch(indices), block_id)
            except StopIteration if dataset_kind == _DatasetKind.Iterable else ():  # a map-style dataset's is an error
                payload, exhausted = IterableExhausted(worker_id), True
            except Exception:
                payload = ExceptionWrapper.capture(where)
            if not _send(result_conn, idx, payload, where, fds) and fds:
                blocks.discard(block_id)   # the main process never got the new block: make it anew next time
            del payload
    except (KeyboardInterrupt, BrokenPipeError):
        pass  # The main process got the same interrupt, or stopped reading: it cleans up.
    result_conn.close()
