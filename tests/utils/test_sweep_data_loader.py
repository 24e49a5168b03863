"""Sweep of torch.utils.data.DataLoader's options in the main process: each program runs on ember and on PyTorch
2.13 and the outcomes (batches, order, len, errors, warnings) must agree. Worker processes: test_sweep_data_workers.py.
"""
import multiprocessing

import numpy
import pytest

from tests.utils.sweep_data_harness import case_registry, gen, same_outcome

CASES, case = case_registry()


def rows(lib, n=7):
    return lib.utils.data.TensorDataset(lib.arange(n * 2, dtype=lib.float32).reshape(n, 2), lib.arange(n))


def counting(lib, n, reported=None):
    class Counting(lib.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(n))

        def __len__(self):
            return n if reported is None else reported
    return Counting()


def unsized(lib, n):
    class Unsized(lib.utils.data.IterableDataset):
        def __iter__(self):
            return iter({"i": i, "x": numpy.full(2, i, numpy.int32)} for i in range(n))
    return Unsized()


def epoch(loader):
    return list(loader)


def loader_case(dataset, **options):
    """A program that builds a DataLoader on ``dataset(lib)`` with ``options`` and reads its len() and one epoch."""
    def fn(lib):
        kwargs = {k: (v(lib) if callable(v) and k in ("sampler", "batch_sampler", "generator") else v)
                  for k, v in options.items()}
        loader = lib.utils.data.DataLoader(dataset(lib), **kwargs)
        try:
            length = len(loader)   # first, so an IterableDataset's reported length is checked by the epoch
        except TypeError as error:
            length = str(error)
        return length, epoch(loader)
    return fn


def range_list(lib):
    return list(range(7))


LOADERS = {
    "defaults": (rows, {}),
    "batch3": (rows, {"batch_size": 3}),
    "batch3_drop": (rows, {"batch_size": 3, "drop_last": True}),
    "batch_none": (rows, {"batch_size": None}),
    "batch_none_drop": (rows, {"batch_size": None, "drop_last": True}),
    "batch_none_list": (range_list, {"batch_size": None}),
    "batch_zero": (rows, {"batch_size": 0}),
    "batch_float": (rows, {"batch_size": 2.0}),
    "shuffle_generator": (rows, {"batch_size": 2, "shuffle": True, "generator": gen}),
    "shuffle_false": (range_list, {"batch_size": 2, "shuffle": False}),
    "shuffle_sampler": (rows, {"shuffle": True, "sampler": lambda lib: lib.utils.data.SequentialSampler(range(7))}),
    "sampler": (range_list, {"batch_size": 2, "sampler": lambda lib: [6, 0, 3]}),
    "sampler_generator": (range_list, {"sampler": lambda lib: lib.utils.data.RandomSampler(range(7), generator=gen(
        lib, 1)), "batch_size": 4}),
    "batch_sampler": (range_list, {"batch_sampler": lambda lib: [[1, 2], [0], [6, 5, 4]]}),
    "batch_sampler_batch_size": (range_list, {"batch_sampler": lambda lib: [[1]], "batch_size": 2}),
    "batch_sampler_batch_size_none": (range_list, {"batch_sampler": lambda lib: [[1]], "batch_size": None}),
    "batch_sampler_shuffle": (range_list, {"batch_sampler": lambda lib: [[1]], "shuffle": True}),
    "batch_sampler_sampler": (range_list, {"batch_sampler": lambda lib: [[1]], "sampler": lambda lib: [0]}),
    "batch_sampler_drop_last": (range_list, {"batch_sampler": lambda lib: [[1]], "drop_last": True}),
    "collate_fn": (range_list, {"batch_size": 3, "collate_fn": lambda batch: [sum(batch), len(batch)]}),
    "collate_fn_no_batching": (range_list, {"batch_size": None, "collate_fn": lambda item: item * 10}),
    "iterable": (lambda lib: counting(lib, 5), {"batch_size": 2}),
    "iterable_drop": (lambda lib: counting(lib, 5), {"batch_size": 2, "drop_last": True}),
    "iterable_none": (lambda lib: counting(lib, 5), {"batch_size": None}),
    "iterable_shuffle": (lambda lib: counting(lib, 5), {"shuffle": True}),
    "iterable_shuffle_false": (lambda lib: counting(lib, 5), {"shuffle": False}),
    "iterable_sampler": (lambda lib: counting(lib, 5), {"sampler": lambda lib: [0]}),
    "iterable_batch_sampler": (lambda lib: counting(lib, 5), {"batch_sampler": lambda lib: [[0]]}),
    "iterable_len_short": (lambda lib: counting(lib, 5, reported=3), {}),
    "iterable_len_short_batched": (lambda lib: counting(lib, 5, reported=3), {"batch_size": 2}),
    "iterable_dicts_no_len": (lambda lib: unsized(lib, 3), {"batch_size": 2}),
    "num_workers_negative": (rows, {"num_workers": -1}),
    "timeout_negative": (rows, {"timeout": -1}),
    "prefetch_without_workers": (rows, {"prefetch_factor": 2}),
    "prefetch_negative": (rows, {"num_workers": 1, "prefetch_factor": -1}),
    "persistent_without_workers": (rows, {"persistent_workers": True}),
    "pin_memory_cpu": (rows, {"batch_size": 4, "pin_memory": True}),
    "pin_memory_device": (rows, {"batch_size": 4, "pin_memory": True, "pin_memory_device": "cpu"}),
    "context_without_workers": (rows, {"multiprocessing_context": "fork"}),
    "context_bad_string": (rows, {"num_workers": 1, "multiprocessing_context": "nope"}),
    "context_bad_type": (rows, {"num_workers": 1, "multiprocessing_context": 3}),
    "timeout_without_workers": (rows, {"timeout": 5, "batch_size": 4}),
    "shuffle_truthy": (range_list, {"shuffle": 1, "generator": gen}),
    "in_order_false_no_workers": (rows, {"batch_size": 3, "in_order": False}),
    "dict_dataset": (lambda lib: [{"a": i, "b": [float(i), "s"]} for i in range(5)], {"batch_size": 2}),
    "numpy_dataset": (lambda lib: [numpy.arange(3, dtype=numpy.int16) + i for i in range(4)], {"batch_size": 3}),
    "numpy_dataset_no_batching": (lambda lib: [numpy.float32(i) for i in range(3)], {"batch_size": None}),
}

for _name, (_dataset, _options) in LOADERS.items():
    CASES[f"loader_{_name}"] = loader_case(_dataset, **_options)


@case("dataloader_module_names")
def _(lib):
    module = lib.utils.data.dataloader
    return sorted(module.__all__), module.get_worker_info(), module.default_collate([1, 2])


@case("prefetch_zero_accepted")
def _(lib):
    return lib.utils.data.DataLoader(range(3), num_workers=1, prefetch_factor=0).prefetch_factor


@case("context_object_stored")
def _(lib):
    loader = lib.utils.data.DataLoader(range(3), num_workers=1, multiprocessing_context="spawn")
    return type(loader.multiprocessing_context).__name__, loader.multiprocessing_context.get_start_method()


@case("context_object")
def _(lib):
    context = multiprocessing.get_context("fork")
    return lib.utils.data.DataLoader(range(3), num_workers=1, multiprocessing_context=context).prefetch_factor


@case("shuffle_two_epochs")
def _(lib):
    loader = lib.utils.data.DataLoader(range(9), batch_size=4, shuffle=True, generator=gen(lib, 3))
    return epoch(loader), epoch(loader)


@case("shuffle_default_generator")
def _(lib):
    lib.manual_seed(11)
    return epoch(lib.utils.data.DataLoader(range(9), batch_size=4, shuffle=True))


@case("iterator_len_and_reuse")
def _(lib):
    loader = lib.utils.data.DataLoader(rows(lib), batch_size=3)
    it = iter(loader)
    first = next(it)
    return len(it), first, list(it), epoch(loader)


@case("set_attributes_after_init")
def _(lib):
    loader = lib.utils.data.DataLoader(range(3))
    out = []
    for attr, value in [("batch_size", 2), ("sampler", [0]), ("batch_sampler", None), ("drop_last", True),
                        ("dataset", range(2)), ("persistent_workers", True), ("num_workers", 0),
                        ("collate_fn", None)]:
        try:
            setattr(loader, attr, value)
            out.append("ok")
        except ValueError as error:
            out.append(str(error))
    return out


@case("attributes")
def _(lib):
    loader = lib.utils.data.DataLoader(range(5), batch_size=2)
    return (loader.batch_size, loader.drop_last, loader.num_workers, loader.prefetch_factor, loader.timeout,
            loader.pin_memory, loader.persistent_workers, loader.in_order, type(loader.sampler).__name__,
            type(loader.batch_sampler).__name__, loader.collate_fn.__name__, loader.generator,
            loader.multiprocessing_context, loader.worker_init_fn)


@case("attributes_no_batching")
def _(lib):
    loader = lib.utils.data.DataLoader(counting(lib, 2), batch_size=None)
    return (loader.batch_size, type(loader.sampler).__name__, loader.batch_sampler, loader.collate_fn.__name__,
            loader._auto_collation, type(loader._index_sampler).__name__)


@case("len_of_iterable_without_len")
def _(lib):
    return len(lib.utils.data.DataLoader(unsized(lib, 3)))


@case("len_of_iterable_batched")
def _(lib):
    return [len(lib.utils.data.DataLoader(counting(lib, 7), batch_size=3, drop_last=d)) for d in (False, True)]


@case("get_worker_info_main_process")
def _(lib):
    return lib.utils.data.get_worker_info()


@case("dataset_error_propagates")
def _(lib):
    class Broken(lib.utils.data.Dataset):
        def __getitem__(self, i):
            raise KeyError(f"missing {i}")

        def __len__(self):
            return 3
    return epoch(lib.utils.data.DataLoader(Broken(), batch_size=2))


@case("getitems_batched_fetch")
def _(lib):
    class Batched(lib.utils.data.Dataset):
        def __getitems__(self, indices):
            return [i * 100 for i in indices]

        def __len__(self):
            return 5
    return epoch(lib.utils.data.DataLoader(Batched(), batch_size=2))


@case("random_split_into_loader")
def _(lib):
    train, _ = lib.utils.data.random_split(rows(lib, 10), [0.7, 0.3], generator=gen(lib, 2))
    return epoch(lib.utils.data.DataLoader(train, batch_size=4, shuffle=True, generator=gen(lib, 4)))


@case("too_many_workers_warning")
def _(lib):
    return lib.utils.data.DataLoader(range(3), num_workers=64).num_workers


@case("distributed_sampler_in_loader")
def _(lib):
    sampler = lib.utils.data.DistributedSampler(range(11), num_replicas=2, rank=1, seed=4)
    loader = lib.utils.data.DataLoader(range(11), batch_size=4, sampler=sampler)
    first = epoch(loader)
    sampler.set_epoch(1)
    return len(loader), first, epoch(loader)


@case("weighted_sampler_in_loader")
def _(lib):
    sampler = lib.utils.data.WeightedRandomSampler([0.5, 0.1, 3.0, 1.0], 6, generator=gen(lib, 9))
    return epoch(lib.utils.data.DataLoader(["a", "b", "c", "d"], batch_size=4, sampler=sampler))


@case("loader_over_chain_dataset")
def _(lib):
    return epoch(lib.utils.data.DataLoader(counting(lib, 3) + counting(lib, 2), batch_size=2))


@case("loader_over_stack_dataset")
def _(lib):
    ds = lib.utils.data.StackDataset(x=rows(lib, 4), y=list("abcd"))
    return epoch(lib.utils.data.DataLoader(ds, batch_size=3))


@case("iterable_generator_is_used")
def _(lib):
    loader = lib.utils.data.DataLoader(counting(lib, 3), generator=gen(lib, 1))
    return epoch(loader), loader.generator.initial_seed()


def rng_after_case(**options):
    """What the default generator and the loader's generator draw after an epoch: how many draws the epoch took."""
    def fn(lib):
        lib.manual_seed(13)
        g = gen(lib, 13) if options.get("generator") else None
        loader = lib.utils.data.DataLoader(range(40), **{**options, "generator": g})
        batches = epoch(loader)
        after = lib.randint(0, 1 << 30, (2,))
        return batches, after, None if g is None else lib.randint(0, 1 << 30, (2,), generator=g)
    return fn


for _options in [{}, {"shuffle": True}, {"shuffle": True, "generator": True}, {"generator": True},
                 {"batch_size": None, "shuffle": True}, {"sampler": range(3)}]:
    CASES["rng_after_epoch_" + "_".join(f"{k}{v}" for k, v in _options.items())] = rng_after_case(**_options)


@case("rng_after_iterable_epoch")
def _(lib):
    lib.manual_seed(3)
    batches = epoch(lib.utils.data.DataLoader(counting(lib, 3)))
    return batches, lib.randint(0, 1 << 30, (2,))


@case("rng_after_random_sampler_replacement")
def _(lib):
    lib.manual_seed(3)
    drawn = list(lib.utils.data.RandomSampler(range(10), replacement=True, num_samples=70))
    return drawn, lib.randint(0, 1 << 30, (2,))


@pytest.mark.parametrize("name", sorted(CASES))
def test_sweep(name):
    same_outcome(CASES[name])
