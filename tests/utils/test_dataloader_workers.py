"""DataLoader with worker processes: order, seeding, errors, dead workers, timeouts and cleanup.

Datasets live at module level so that 'spawn' workers can import them; this module imports torch only inside the
test that needs it, so spawned workers start quickly.
"""
import gc
import multiprocessing
import os
import random
import signal
import threading
import time
import warnings

import numpy
import pytest

import ember
import ember.utils.data
from ember.utils.data import DataLoader, Dataset, IterableDataset, get_worker_info


class Samples(Dataset):
    """Deterministic samples: an array, an int and a string per index."""

    def __init__(self, n=23):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": numpy.full((2, 3), i, dtype=numpy.float32), "label": i, "name": f"s{i}"}


class TableRows(Dataset):
    """Rows of an ember tensor held by the dataset, which a 'spawn' worker receives pickled."""

    def __init__(self):
        self.table = ember.from_numpy(numpy.arange(12.0).reshape(6, 2))

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return self.table.numpy()[i]


class RandomDraws(Dataset):
    """Each sample: the worker id, and draws from Python's, NumPy's and ember's RNGs."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return info.id, random.random(), float(numpy.random.rand()), float(ember.rand(()).item())


class WorkerFacts(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        info = get_worker_info()
        return info.id, info.num_workers, info.seed, info.dataset is not None, os.getpid()


class Failing(Dataset):
    def __init__(self, error_type=ValueError, bad_index=3):
        self.error_type, self.bad_index = error_type, bad_index

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == self.bad_index:
            raise self.error_type(f"sample {i} is broken")
        return i


class Suicidal(Dataset):
    """Index 5 SIGKILLs the worker reading it."""

    def __len__(self):
        return 40

    def __getitem__(self, i):
        if i == 5:
            os.kill(os.getpid(), signal.SIGKILL)
        return numpy.zeros(1000)


class Slow(Dataset):
    def __init__(self, delay):
        self.delay = delay

    def __len__(self):
        return 4

    def __getitem__(self, i):
        time.sleep(self.delay)
        return i


class SlowFirst(Dataset):
    """Index 0 takes a while, so the other worker's batches arrive before it."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        time.sleep(1.0 if i == 0 else 0.0)
        return i


class Large(Dataset):
    """Big samples, so several shared-memory blocks are in flight at any time."""

    def __len__(self):
        return 64

    def __getitem__(self, i):
        return numpy.full((64, 1024), i, dtype=numpy.float32)


class Range(IterableDataset):
    """``start..end-1``; with ``shard``, each worker takes its own contiguous part (sizes may differ)."""

    def __init__(self, start, end, shard=True):
        self.start, self.end, self.shard = start, end, shard

    def __iter__(self):
        info = get_worker_info()
        if info is None or not self.shard:
            return iter(range(self.start, self.end))
        per_worker = -(-(self.end - self.start) // info.num_workers)
        begin = self.start + info.id * per_worker
        return iter(range(begin, min(begin + per_worker, self.end)))


def record_worker_id(worker_id):
    numpy.random.seed(1000 + worker_id)


def failing_init(worker_id):
    raise RuntimeError(f"init of worker {worker_id} failed")


def own_shm_blocks():
    """The DataLoader shared-memory blocks of this process's loaders (named ``ember_<pid>_...``)."""
    prefix = f"ember_{os.getpid()}_"
    return {name for name in os.listdir("/dev/shm") if name.startswith(prefix)} if os.path.isdir("/dev/shm") else set()


def open_fds():
    return set(os.listdir(f"/proc/{os.getpid()}/fd")) if os.path.isdir(f"/proc/{os.getpid()}/fd") else set()


@pytest.fixture
def no_leaks(monkeypatch):
    """Asserts the test leaves behind none of what it created: worker processes, threads, file descriptors, its
    loaders' shared-memory blocks and the named semaphores of their queues. Only this process's own are looked at,
    so other programs on the machine (another test run, a user's training) cannot make it fail."""
    from multiprocessing import resource_tracker
    semaphores = []
    register = resource_tracker.register

    def record(name, rtype):
        if rtype == "semaphore":
            semaphores.append(name)
        register(name, rtype)
    monkeypatch.setattr(resource_tracker, "register", record)
    resource_tracker.ensure_running()  # the tracker (and its pipe) lives as long as this process: not a leak
    threads, fds = set(threading.enumerate()), open_fds()
    yield
    monkeypatch.undo()

    def leaks():
        gc.collect()
        found = {"processes": multiprocessing.active_children(), "shared memory": own_shm_blocks(),
                 "threads": [t for t in threading.enumerate() if t not in threads],
                 "semaphores": [name for name in semaphores if os.path.exists(f"/dev/shm/sem.{name.lstrip('/')}")],
                 "file descriptors": sorted(open_fds() - fds)}
        return {kind: items for kind, items in found.items() if items}
    # Exited workers, their queues' feeder threads and named semaphores go away asynchronously (the resource tracker
    # unlinks semaphores after the last reference dies): poll for a generous while before calling anything a leak.
    deadline = time.monotonic() + 30
    while leaks() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert leaks() == {}


def as_plain(batch):
    """A batch with tensors as nested lists, for exact comparison."""
    if isinstance(batch, ember.Tensor):
        return batch.tolist()
    if isinstance(batch, dict):
        return {k: as_plain(v) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return [as_plain(v) for v in batch]
    return batch


@pytest.mark.timeout(300)
@pytest.mark.parametrize("options", [dict(batch_size=4), dict(batch_size=4, drop_last=True, prefetch_factor=1),
                                     dict(batch_size=None), dict(batch_size=5, shuffle=True)])
def test_two_workers_give_the_batches_of_zero_workers(options, no_leaks):
    def batches(num_workers):
        ember.manual_seed(11)
        extra = {} if num_workers or "prefetch_factor" not in options else {"prefetch_factor": None}
        return [as_plain(b) for b in DataLoader(Samples(), num_workers=num_workers, **{**options, **extra})]
    assert batches(2) == batches(0)


@pytest.mark.timeout(300)
def test_spawn_workers_and_tensor_batches(no_leaks):
    loader = DataLoader(Samples(9), batch_size=4, num_workers=2, multiprocessing_context="spawn")
    batches = list(loader)
    assert [b["label"].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8]]
    assert batches[0]["x"].dtype == ember.float32 and tuple(batches[0]["x"].shape) == (4, 2, 3)
    assert batches[2]["name"] == ["s8"]
    rows = DataLoader(TableRows(), batch_size=4, num_workers=1, multiprocessing_context="spawn")
    assert [b.tolist() for b in rows] == [[[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]], [[8.0, 9.0], [10.0, 11.0]]]


@pytest.mark.timeout(300)
def test_worker_seeds_are_distinct_and_reproducible(no_leaks):
    def draws():
        ember.manual_seed(5)
        return [tuple(v.tolist() for v in b) for b in DataLoader(RandomDraws(), batch_size=2, num_workers=2)]
    first, second = draws(), draws()
    assert first == second
    by_worker = {}
    for ids, *values in first:
        for row, worker_id in enumerate(ids):
            by_worker.setdefault(worker_id, []).append(tuple(v[row] for v in values))
    assert sorted(by_worker) == [0, 1]
    for rng in range(3):
        assert by_worker[0][0][rng] != by_worker[1][0][rng]
    ember.manual_seed(6)
    other_epoch = [tuple(v.tolist() for v in b) for b in DataLoader(RandomDraws(), batch_size=2, num_workers=2)]
    assert other_epoch != first


class DrawsOf(RandomDraws):
    """RandomDraws through ``lib``'s own RNG and worker info."""

    def __init__(self, lib):
        self.lib = lib

    def __getitem__(self, i):
        info = self.lib.utils.data.get_worker_info()
        return info.id, random.random(), float(numpy.random.rand()), float(self.lib.rand(()).item())


@pytest.mark.timeout(300)
def test_worker_seeds_match_torchs(no_leaks):
    # Each worker seeds Python's, NumPy's and the library's RNG as torch's do (the data-loading tutorial's
    # numpy.random crops in workers): same draws in every worker.
    import torch.utils.data

    def draws(lib):
        lib.manual_seed(3)
        loader = lib.utils.data.DataLoader(DrawsOf(lib), batch_size=2, num_workers=2)
        return [[v.tolist() for v in batch] for batch in loader]
    assert draws(ember) == draws(torch)


@pytest.mark.timeout(300)
def test_get_worker_info_and_worker_init_fn(no_leaks):
    ember.manual_seed(0)
    loader = DataLoader(WorkerFacts(), batch_size=None, num_workers=2, worker_init_fn=record_worker_id)
    facts = [tuple(int(v) for v in f) for f in loader]
    assert [f[0] for f in facts] == [0, 1, 0, 1] and all(f[1] == 2 and f[3] for f in facts)
    seeds = {f[0]: f[2] for f in facts}
    assert seeds[1] == seeds[0] + 1
    assert len({f[4] for f in facts}) == 2 and os.getpid() not in {f[4] for f in facts}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("error_type", [ValueError, KeyError])
def test_worker_exception_is_reraised_with_its_traceback(error_type, no_leaks):
    loader = DataLoader(Failing(error_type), batch_size=2, num_workers=2)
    iterator = iter(loader)
    assert next(iterator).tolist() == [0, 1]
    with pytest.raises(error_type) as raised:
        next(iterator)
    message = str(raised.value)
    del raised  # its traceback holds the iterator
    assert f"Caught {error_type.__name__} in DataLoader worker process 1." in message
    assert "Original Traceback (most recent call last):" in message and "sample 3 is broken" in message
    assert "__getitem__" in message
    assert next(iterator).tolist() == [4, 5]  # like torch, the iterator carries on after a worker's error
    del iterator


@pytest.mark.timeout(300)
def test_worker_init_fn_error_is_reraised(no_leaks):
    with pytest.raises(RuntimeError, match="Caught RuntimeError in DataLoader worker process 0"):
        list(DataLoader(Samples(), num_workers=1, worker_init_fn=failing_init))


@pytest.mark.timeout(300)
def test_killed_worker_raises_instead_of_hanging(no_leaks):
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly"):
        for _ in DataLoader(Suicidal(), batch_size=2, num_workers=2):
            pass


@pytest.mark.timeout(300)
def test_timeout(no_leaks):
    loader = DataLoader(Slow(30.0), num_workers=1, timeout=0.5)
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.5 seconds"):
        next(iter(loader))  # without the timeout this would return the sample after 30 s


@pytest.mark.timeout(300)
def test_break_leaves_no_processes_or_shared_memory(no_leaks):
    for i, batch in enumerate(DataLoader(Large(), batch_size=4, num_workers=2, prefetch_factor=4)):
        assert batch[0, 0, 0].item() == 0 if hasattr(ember.Tensor, "__getitem__") else True
        time.sleep(0.3)  # let the workers fill the pipeline with batches in flight
        break


@pytest.mark.timeout(300)
def test_exception_in_loop_body_and_garbage_collection_clean_up(no_leaks):
    with pytest.raises(ZeroDivisionError):
        for batch in DataLoader(Large(), batch_size=4, num_workers=2):
            time.sleep(0.2)
            1 / 0
    iterator = iter(DataLoader(Large(), batch_size=4, num_workers=2))
    next(iterator)
    time.sleep(0.2)
    del iterator


@pytest.mark.timeout(300)
def test_keyboard_interrupt_cleans_up(no_leaks):
    with pytest.raises(KeyboardInterrupt):
        for batch in DataLoader(Large(), batch_size=4, num_workers=2):
            raise KeyboardInterrupt


@pytest.mark.timeout(300)
def test_persistent_workers_survive_epochs(no_leaks):
    loader = DataLoader(WorkerFacts(), batch_size=None, num_workers=2, persistent_workers=True)
    first = [tuple(int(v) for v in f) for f in loader]
    for facts in loader:  # a broken-off epoch leaves results in flight that the next epoch must discard
        break
    second = [tuple(int(v) for v in f) for f in loader]
    assert [f[0] for f in second] == [0, 1, 0, 1]
    assert {f[4] for f in first} == {f[4] for f in second}
    plain = DataLoader(Samples(10), batch_size=3, num_workers=2, persistent_workers=True)
    assert [as_plain(b) for b in plain] == [as_plain(b) for b in plain] == [as_plain(b) for b in
                                                                           DataLoader(Samples(10), batch_size=3)]
    del loader, plain


@pytest.mark.timeout(300)
def test_in_order_false_yields_batches_as_they_arrive(no_leaks):
    import torch.utils.data
    for lib in (ember, torch):
        in_order = [b.item() for b in lib.utils.data.DataLoader(SlowFirst(), num_workers=2)]
        loader = lib.utils.data.DataLoader(SlowFirst(), num_workers=2, in_order=False, persistent_workers=True)
        assert loader.in_order is False and in_order == list(range(8))
        for _ in range(2):
            arrived = [b.item() for b in loader]
            assert sorted(arrived) == list(range(8)) and arrived[0] != 0
        del loader


def test_pin_memory_device_is_deprecated_as_in_torch():
    import torch.utils.data
    for lib in (ember, torch):
        loader = lib.utils.data.DataLoader(range(4), batch_size=2, pin_memory=True, pin_memory_device="cuda")
        assert loader.pin_memory_device == "cuda"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert [b.tolist() for b in loader] == [[0, 1], [2, 3]]
        assert [str(w.message) for w in caught][0] == ("pin_memory_device is deprecated, the current accelerator will "
                                                       "be used as the device,ignore pin_memory_device='cuda'.")


@pytest.mark.timeout(300)
def test_persistent_workers_with_iterable_dataset(no_leaks):
    loader = DataLoader(Range(0, 7), batch_size=2, num_workers=2, persistent_workers=True)
    epochs = [sorted(sum((b.tolist() for b in loader), [])) for _ in range(2)]
    assert epochs == [list(range(7))] * 2
    del loader


@pytest.mark.timeout(300)
@pytest.mark.parametrize("options", [dict(batch_size=2), dict(batch_size=2, drop_last=True), dict(batch_size=None)])
def test_iterable_dataset_sharding_matches_torch(options, no_leaks):
    import torch.utils.data

    class TorchRange(torch.utils.data.IterableDataset):
        def __init__(self, start, end):
            self.start, self.end = start, end

        __iter__ = Range.__iter__
        shard = True

    # get_worker_info must be each library's own inside its workers.
    global get_worker_info
    ours = [as_plain(b) for b in DataLoader(Range(3, 14), num_workers=2, **options)]
    get_worker_info, original = torch.utils.data.get_worker_info, get_worker_info
    try:
        theirs = [b.tolist() if hasattr(b, "tolist") else b for b in
                  torch.utils.data.DataLoader(TorchRange(3, 14), num_workers=2, **options)]
    finally:
        get_worker_info = original
    assert ours == theirs


@pytest.mark.timeout(300)
def test_unsharded_iterable_dataset_is_read_whole_by_each_worker(no_leaks):
    values = sum((b.tolist() for b in DataLoader(Range(0, 5, shard=False), batch_size=2, num_workers=2)), [])
    assert sorted(values) == sorted(list(range(5)) * 2)
