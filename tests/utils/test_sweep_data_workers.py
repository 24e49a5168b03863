"""Sweep of DataLoader worker processes: each program loads with 2 forked workers on ember and on PyTorch 2.13 and the
outcomes (batches, which worker made them, worker seeds and RNG draws, sharding, errors, warnings) must agree."""
import random
import re
import time

import numpy
import pytest

from tests.utils.sweep_data_harness import case_registry, gen, same_outcome

CASES, case = case_registry()


def load(lib, dataset, **options):
    """One epoch of a 2-worker loader, its workers shut down even when it fails."""
    options.setdefault("num_workers", 2)
    it = iter(lib.utils.data.DataLoader(dataset, **options))
    try:
        return list(it)
    finally:
        it._shutdown_workers()


def who(lib):
    class Who(lib.utils.data.Dataset):
        """Each sample says which worker of how many read it."""

        def __getitem__(self, i):
            info = lib.utils.data.get_worker_info()
            return {"i": i, "worker": info.id, "workers": info.num_workers, "copy": info.dataset is not self}

        def __len__(self):
            return 7
    return Who()


def draws(lib):
    class Draws(lib.utils.data.Dataset):
        """Each sample is the worker's seed and a draw from each RNG it seeds."""

        def __getitem__(self, i):
            info = lib.utils.data.get_worker_info()
            return (info.seed, lib.initial_seed(), lib.randint(0, 1000, (2,)), random.randrange(1000),
                    int(numpy.random.randint(1000)))

        def __len__(self):
            return 4
    return Draws()


def shards(lib, n=9, split=True):
    class Shards(lib.utils.data.IterableDataset):
        """0..n-1, split between workers by get_worker_info() (or read whole by each when ``split`` is off)."""

        def __iter__(self):
            info = lib.utils.data.get_worker_info()
            if not split or info is None:
                return iter(range(n))
            return iter(range(info.id, n, info.num_workers))

        def __len__(self):
            return n
    return Shards()


@case("map_in_order")
def _(lib):
    return load(lib, who(lib), batch_size=2)


@case("map_no_batching")
def _(lib):
    return load(lib, who(lib), batch_size=None)


@case("map_prefetch_1_drop_last")
def _(lib):
    return load(lib, who(lib), batch_size=3, drop_last=True, prefetch_factor=1)


@case("map_shuffle_generator")
def _(lib):
    return load(lib, who(lib), batch_size=2, shuffle=True, generator=gen(lib))


@case("out_of_order_sorted")
def _(lib):
    return sorted(load(lib, range(10), batch_size=3, in_order=False), key=lambda b: b[0].item())


@case("worker_seeds_with_generator")
def _(lib):
    return load(lib, draws(lib), generator=gen(lib, 3))


@case("worker_seeds_default_generator")
def _(lib):
    lib.manual_seed(21)
    return load(lib, draws(lib))


@case("worker_init_fn")
def _(lib):
    def init(worker_id):
        info = lib.utils.data.get_worker_info()
        info.dataset.offset = 100 * (worker_id + 1) + info.num_workers

    class Offset(lib.utils.data.Dataset):
        offset = 0

        def __getitem__(self, i):
            return i + self.offset

        def __len__(self):
            return 6
    return load(lib, Offset(), batch_size=2, worker_init_fn=init)


@case("worker_init_fn_error")
def _(lib):
    def init(worker_id):
        raise ValueError(f"bad worker {worker_id}")
    try:
        return load(lib, range(4), worker_init_fn=init)
    except Exception as error:   # noqa: BLE001 (the message holds the worker's traceback: its first line is compared)
        return type(error).__name__, str(error).splitlines()[0]


@case("dataset_error")
def _(lib):
    class Broken(lib.utils.data.Dataset):
        def __getitem__(self, i):
            if i == 3:
                raise KeyError(f"missing {i}")
            return i

        def __len__(self):
            return 6
    try:
        return load(lib, Broken(), batch_size=2)
    except Exception as error:   # noqa: BLE001 (the message holds the worker's traceback: its first line is compared)
        return type(error).__name__, str(error).splitlines()[0]


@case("iterable_sharded")
def _(lib):
    return load(lib, shards(lib), batch_size=2)


@case("iterable_sharded_no_batching")
def _(lib):
    return load(lib, shards(lib, 5), batch_size=None)


@case("iterable_unsharded_len_warning")
def _(lib):
    loader = lib.utils.data.DataLoader(shards(lib, 3, split=False), num_workers=2)
    length = len(loader)
    it = iter(loader)
    try:
        return length, list(it)
    finally:
        it._shutdown_workers()


@case("persistent_workers_two_epochs")
def _(lib):
    loader = lib.utils.data.DataLoader(who(lib), batch_size=3, num_workers=2, persistent_workers=True)
    first = list(loader)
    it = iter(loader)
    try:
        return first, list(it)
    finally:
        it._shutdown_workers()


@case("timeout")
def _(lib):
    class Slow(lib.utils.data.Dataset):
        def __getitem__(self, i):
            time.sleep(1.5)
            return i

        def __len__(self):
            return 2
    return load(lib, Slow(), timeout=0.3)


@case("pin_memory_cpu")
def _(lib):
    return load(lib, range(5), batch_size=2, pin_memory=True)


@case("worker_info_is_read_only")
def _(lib):
    class Info(lib.utils.data.Dataset):
        def __getitem__(self, i):
            info = lib.utils.data.get_worker_info()
            try:
                info.id = 5
            except Exception as error:   # noqa: BLE001 (compared)
                return type(error).__name__, str(error), re.sub(" at 0x[0-9a-f]+", "", repr(info))
            return "assigned"

        def __len__(self):
            return 2
    return load(lib, Info(), batch_size=None, generator=gen(lib))


@case("worker_init_fn_sees_info")
def _(lib):
    def init(worker_id):
        info = lib.utils.data.get_worker_info()
        info.dataset.seen = (worker_id, info.id, info.num_workers, lib.initial_seed() == info.seed)

    class Seen(lib.utils.data.Dataset):
        seen = None

        def __getitem__(self, i):
            return self.seen

        def __len__(self):
            return 4
    return load(lib, Seen(), batch_size=None, generator=gen(lib, 5))


@case("iterable_dicts_no_batching")
def _(lib):
    class Records(lib.utils.data.IterableDataset):
        def __iter__(self):
            info = lib.utils.data.get_worker_info()
            return iter({"w": info.id, "x": numpy.full(2, k, numpy.float32)} for k in range(2))
    return load(lib, Records(), batch_size=None)


@case("sampler_with_workers")
def _(lib):
    sampler = lib.utils.data.RandomSampler(range(8), generator=gen(lib, 2))
    return load(lib, who(lib), batch_size=3, sampler=sampler)


@case("persistent_iterator_reused")
def _(lib):
    out = []
    for persistent in (False, True):
        loader = lib.utils.data.DataLoader(range(4), num_workers=2, persistent_workers=persistent)
        first = iter(loader)
        list(first)
        second = iter(loader)
        out.append((first is second, list(second)))
        second._shutdown_workers()
    return out


@case("iterable_worker_error")
def _(lib):
    class Failing(lib.utils.data.IterableDataset):
        def __iter__(self):
            yield 1
            raise OSError("stream broke")
    try:
        return load(lib, Failing())
    except Exception as error:   # noqa: BLE001 (the message holds the worker's traceback: its first line is compared)
        return type(error).__name__, str(error).splitlines()[0]


def first_line(fn):
    """``fn()``, or its exception's type and first line (the rest is the worker's traceback)."""
    try:
        return fn()
    except Exception as error:   # noqa: BLE001 (compared)
        return type(error).__name__, str(error).splitlines()[0]


def bad_collate(batch):
    raise TypeError(f"cannot collate {len(batch)}")


CASES.update({
    "numpy_items": lambda lib: load(lib, [numpy.full(2, i, numpy.float16) for i in range(5)], batch_size=2),
    "strings_no_batching": lambda lib: load(lib, ["a", "b", "c"], batch_size=None),
    "collate_fn_sees_worker": lambda lib: load(lib, range(4), batch_size=2, collate_fn=lambda batch: (
        lib.utils.data.get_worker_info().id, batch)),
    "iterable_sharded_drop_last": lambda lib: load(lib, shards(lib, 7), batch_size=2, drop_last=True),
    "collate_fn_error": lambda lib: first_line(lambda: load(lib, range(4), batch_size=2, collate_fn=bad_collate)),
    "tuple_samples_shuffled": lambda lib: load(lib, [(i, float(i), str(i)) for i in range(5)], batch_size=3,
                                               shuffle=True, generator=gen(lib)),
    "one_worker": lambda lib: load(lib, range(5), batch_size=2, num_workers=1),
    "more_workers_than_batches": lambda lib: load(lib, range(3), batch_size=2, num_workers=4),
    "empty_dataset": lambda lib: load(lib, [], batch_size=2),
    "iterable_shard_left_empty": lambda lib: load(lib, shards(lib, 1), batch_size=2),
})


@pytest.mark.parametrize("name", sorted(CASES))
def test_sweep(name):
    same_outcome(CASES[name])
