"""DataLoader: batches from a dataset, read in the main process or in worker processes, in sampler order."""
import itertools
import math
import multiprocessing
import os
import signal
import sys
import time
import warnings
from typing import Generic, TypeVar

import ember

from . import _pipe, _shared_memory
from .pin_memory import pin_memory
from ._fetch import _DatasetKind
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, draw_seed
from .worker import ExceptionWrapper, IterableExhausted, ResumeIteration, Resumed, _worker_loop, get_worker_info

_T_co = TypeVar("_T_co", covariant=True)

__all__ = ["DataLoader", "get_worker_info", "default_collate", "default_convert"]

# How long shutdown waits for workers to exit by themselves before terminating them. Workers hold nothing that
# needs a clean exit: their shared-memory blocks have no names, and go when no process maps them.
_SHUTDOWN_GRACE = 1.0


class _InfiniteConstantSampler(Sampler):
    """Yields None forever: the "indices" of an iterable dataset, which its fetcher ignores."""

    def __iter__(self):
        return itertools.repeat(None)


class DataLoader(Generic[_T_co]):
    """Iterates over ``dataset`` in batches: samples chosen by a sampler, collated by ``collate_fn``, and read by
    ``num_workers`` worker processes (0: in the main process), delivered in order (with ``in_order=False``, worker
    batches as they arrive)."""

    __initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers)
        is_iterable = isinstance(dataset, IterableDataset)
        if is_iterable:
            _check_iterable_options(shuffle, sampler, batch_sampler)
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
                                 "drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if sampler is None:
            if is_iterable:
                sampler = _InfiniteConstantSampler()
            else:
                sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = 2 if num_workers > 0 and prefetch_factor is None else prefetch_factor
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self._dataset_kind = _DatasetKind.Iterable if is_iterable else _DatasetKind.Map
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.collate_fn = collate_fn or (default_collate if batch_sampler is not None else default_convert)
        self.persistent_workers = persistent_workers
        self.pin_memory_device = pin_memory_device   # deprecated in PyTorch: the current accelerator is used
        self.in_order = in_order
        self._IterableDataset_len_called = None
        self._iterator = None
        self.__initialized = True
        self.check_worker_number_rationality()

    @property
    def multiprocessing_context(self):
        """The multiprocessing context workers start in (None: 'fork' on Linux, the platform default elsewhere)."""
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context):
        if context is not None:
            if self.num_workers == 0:
                raise ValueError("multiprocessing_context can only be used with multi-process loading "
                                 f"(num_workers > 0), but got num_workers={self.num_workers}")
            if isinstance(context, str):
                methods = multiprocessing.get_all_start_methods()
                if context not in methods:
                    raise ValueError(f"multiprocessing_context option should specify a valid start method in "
                                     f"{methods!r}, but got multiprocessing_context={context!r}")
                context = multiprocessing.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError("multiprocessing_context option should be a valid context object or a string "
                                f"specifying the start method, but got multiprocessing_context={context}")
        self.__multiprocessing_context = context

    def __setattr__(self, attr, value):
        if self.__initialized and attr in ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                                           "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after {self.__class__.__name__} is initialized")
        super().__setattr__(attr, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        if not (self.persistent_workers and self.num_workers > 0):
            return self._get_iterator()
        if self._iterator is None:
            self._iterator = self._get_iterator()
        else:
            self._iterator._reset(self)
        return self._iterator

    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        self.check_worker_number_rationality()
        return _MultiProcessingDataLoaderIter(self)

    def __len__(self):
        if self._dataset_kind == _DatasetKind.Map:
            return len(self._index_sampler)
        length = self._IterableDataset_len_called = len(self.dataset)
        if self.batch_size is not None:
            length = length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
        return length

    def check_worker_number_rationality(self):
        """Warns when more workers are asked for than this process may use CPUs."""
        if not self.num_workers:
            return
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        if cpus is None or self.num_workers > cpus:
            suggestion = (f"Our suggested max number of worker in current system is {cpus}"
                          f"{'' if hasattr(os, 'sched_getaffinity') else ' (`cpuset` is not taken into account)'}, "
                          "which is smaller than what this DataLoader is going to create." if cpus is not None else
                          "DataLoader is not able to compute a suggested max number of worker in current system.")
            warnings.warn(f"This DataLoader will create {self.num_workers} worker processes in total. {suggestion} "
                          "Please be aware that excessive worker creation might get DataLoader running slow or even "
                          "freeze, lower the worker number to avoid potential slowness/freeze if necessary.",
                          stacklevel=2)   # as PyTorch's: the loader's own line (__init__, _get_iterator)


def _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers):
    if num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 to "
                         "enable multiprocessing, otherwise set prefetch_factor to None.")
    if prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError("prefetch_factor option should be non-negative")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")


def _check_iterable_options(shuffle, sampler, batch_sampler):
    if shuffle not in {False, None}:
        raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                         f"shuffle={shuffle}")
    if sampler is not None:
        raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                         f"sampler={sampler}")
    if batch_sampler is not None:
        raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, but got "
                         f"batch_sampler={batch_sampler}")


def _accelerator_available():
    cuda = getattr(ember, "cuda", None)
    return cuda is not None and cuda.is_available()


class _BaseDataLoaderIter:
    """What both iterators share: the sampler iteration, the epoch's base seed, and the length check."""

    def __init__(self, loader):
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._collate_fn = loader.collate_fn
        self._timeout = loader.timeout
        self._pin_memory = loader.pin_memory and _accelerator_available()
        if loader.pin_memory and loader.pin_memory_device:
            warnings.warn("pin_memory_device is deprecated, the current accelerator will be used as the device,"
                          f"ignore pin_memory_device='{loader.pin_memory_device}'.", stacklevel=4)
        if loader.pin_memory and not self._pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device pinned "
                          "memory won't be used.", stacklevel=4)
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter=False):
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._base_seed = draw_seed(loader.generator)

    def __iter__(self):
        return self

    def __next__(self):
        data = self._next_data()
        if self._pin_memory:
            data = pin_memory(data)
        self._num_yielded += 1
        if self._dataset_kind == _DatasetKind.Iterable and self._IterableDataset_len_called is not None \
                and self._num_yielded > self._IterableDataset_len_called:
            message = (f"Length of IterableDataset {self._dataset} was reported to be "
                       f"{self._IterableDataset_len_called}(when accessing len(dataloader)), but {self._num_yielded} "
                       "samples have been fetched. ")
            if self._num_workers > 0:
                message += ("For multiprocessing data-loading, this could be caused by not properly configuring the "
                            "IterableDataset replica at each worker. Please see "
                            "https://pytorch.org/docs/stable/data.html#torch.utils.data.IterableDataset for examples.")
            warnings.warn(message, stacklevel=2)
        return data

    def __len__(self):
        return len(self._index_sampler)


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    """Reads every batch in the main process."""

    def __init__(self, loader):
        super().__init__(loader)
        if self._timeout != 0:   # PyTorch's check, at the first iterator rather than in the constructor
            raise AssertionError("_SingleProcessDataLoaderIter requires timeout == 0")
        self._fetcher = _DatasetKind.create_fetcher(self._dataset_kind, self._dataset, self._auto_collation,
                                                    self._collate_fn, self._drop_last)

    def _next_data(self):
        return self._fetcher.fetch(next(self._sampler_iter))


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Hands index batches round-robin to worker processes (``prefetch_factor`` per worker in flight) and yields
    their results in sampler order, holding early arrivals in a reorder buffer (``in_order=False``: yielding
    them at once)."""

    def __init__(self, loader):
        self._workers, self._shutdown = [], False
        self._blocks = _shared_memory.BlockPool()
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        self._persistent_workers = loader.persistent_workers
        self._in_order = loader.in_order
        context = loader.multiprocessing_context or _default_context()
        self._done_event = context.Event()
        self._index_queues, readers = [], []
        try:
            for worker_id in range(self._num_workers):
                index_queue = context.Queue()
                index_queue.cancel_join_thread()
                reader, writer = context.Pipe(duplex=True)   # a socket pair: it passes the blocks' descriptors
                readers.append(reader)
                worker = context.Process(
                    target=_worker_loop, daemon=True,
                    args=(self._dataset_kind, self._dataset, index_queue, writer, self._done_event,
                          self._auto_collation, self._collate_fn, self._drop_last, self._base_seed,
                          loader.worker_init_fn, worker_id, self._num_workers, os.getpid()))
                try:
                    worker.start()
                finally:
                    writer.close()  # the worker now holds the only write end: its death reads as end-of-file
                self._index_queues.append(index_queue)
                self._workers.append(worker)
        except BaseException:
            for reader in readers:
                reader.close()
            self._shutdown_workers()
            raise
        self._results = _pipe.ResultReader(readers, self._workers)
        self._start_epoch()

    def _reset(self, loader, first_iter=False):
        super()._reset(loader, first_iter)
        if not first_iter:
            self._resume_workers()
            self._start_epoch()

    def _resume_workers(self):
        """Starts persistent workers on a new epoch, discarding results of the last one still in flight."""
        for index_queue in self._index_queues:
            index_queue.put(ResumeIteration())
        resumed = 0
        while resumed < self._num_workers:
            _, payload = self._get_data()
            resumed += isinstance(payload, Resumed)

    def _start_epoch(self):
        self._send_idx = self._rcvd_idx = 0
        self._task_workers = {}  # idx -> worker id, for every task sent and not yet yielded
        self._task_blocks = {}  # idx -> shared-memory block chosen for the task, until its answer is read
        self._reorder_buffer = {}  # idx -> batch (or error) that arrived before the batches ahead of it
        self._workers_active = [True] * self._num_workers
        self._worker_cycle = itertools.cycle(range(self._num_workers))
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _try_put_index(self):
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        for _ in range(self._num_workers):
            worker_id = next(self._worker_cycle)
            if self._workers_active[worker_id]:
                break
        else:
            return
        block_id = self._task_blocks[self._send_idx] = self._blocks.take(worker_id)
        self._index_queues[worker_id].put((self._send_idx, index, block_id))
        self._task_workers[self._send_idx] = worker_id
        self._send_idx += 1

    def _next_data(self):
        while True:
            while self._rcvd_idx < self._send_idx and self._rcvd_idx not in self._reorder_buffer \
                    and not self._workers_active[self._task_workers[self._rcvd_idx]]:
                # A task sent to a worker whose iterable ran out: it will never be answered.
                del self._task_workers[self._rcvd_idx]
                self._rcvd_idx += 1
            if self._rcvd_idx >= self._send_idx:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration
            if self._rcvd_idx in self._reorder_buffer:
                return self._deliver(self._reorder_buffer.pop(self._rcvd_idx))
            idx, payload = self._get_data()
            if isinstance(payload, IterableExhausted):
                self._workers_active[payload.worker_id] = False
                self._try_put_index()
            elif idx == self._rcvd_idx:
                return self._deliver(payload)
            elif idx in self._task_workers:
                if not self._in_order:
                    return self._deliver(payload, idx)
                self._reorder_buffer[idx] = payload

    def _deliver(self, payload, idx=None):
        """Yields task ``idx``'s result (the next in order by default) and sends the next task."""
        del self._task_workers[self._rcvd_idx if idx is None else idx]
        while self._rcvd_idx < self._send_idx and self._rcvd_idx not in self._task_workers:
            self._rcvd_idx += 1   # past the tasks already yielded out of order
        self._try_put_index()
        if isinstance(payload, ExceptionWrapper):
            payload.reraise()
        return payload

    def _get_data(self):
        """The next ``(idx, result)`` from any worker, with batches already out of shared memory. Raises as soon as
        a worker dies, whatever it was doing, or when ``timeout`` seconds pass."""
        try:
            (idx, payload), fds = self._results.get(self._timeout if self._timeout > 0 else None)
        except TimeoutError:
            raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds") from None
        except _pipe.WorkerDied as died:
            self._shutdown_workers(grace=0.0)  # the epoch is lost: report it now, not after the others finish
            raise RuntimeError(f"DataLoader worker (pid(s) {died.process.pid}) exited unexpectedly"
                               f"{_exit_reason(died.process.exitcode)}") from None
        if isinstance(payload, _shared_memory.PackedBatch):
            payload = self._blocks.unpack(payload, fds)
        if idx in self._task_blocks:   # answered (results of an abandoned epoch included): the block is free again
            self._blocks.give_back(self._task_blocks.pop(idx))
        return idx, payload

    def _shutdown_workers(self, grace=_SHUTDOWN_GRACE):
        """Stops the workers (terminating any still busy after ``grace`` seconds) and unmaps their shared-memory
        blocks."""
        if self._shutdown:
            return
        self._shutdown = True
        if not self._workers:
            return
        self._done_event.set()
        if hasattr(self, "_results"):
            self._results.close()  # a worker blocked writing a result gets a broken pipe and exits
        for index_queue in self._index_queues:
            index_queue.put(None)
        deadline = time.monotonic() + grace
        for worker in self._workers:
            worker.join(timeout=max(0.0, deadline - time.monotonic()))
        for worker in self._workers:
            if worker.is_alive():
                worker.terminate()
                worker.join()
        self._blocks.close()
        for q in self._index_queues:
            q.cancel_join_thread()
            q.close()

    def __del__(self):
        self._shutdown_workers()


def _exit_reason(exitcode):
    """How a worker ended, in words: ``: killed by signal SIGKILL`` or ``with exit code 1``."""
    if exitcode is not None and exitcode < 0:
        try:
            return f": killed by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f": killed by signal {-exitcode}"
    return f" with exit code {exitcode}"


def _default_context():
    """'fork' on Linux (workers start fast and inherit the dataset), the platform's default elsewhere."""
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None)
