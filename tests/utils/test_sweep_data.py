"""Sweep of torch.utils.data's datasets, samplers and collation: each program runs on ember and on PyTorch 2.13 and
the outcomes (values, dtypes, shapes, types, order, errors, warnings, len) must agree."""
import collections
import copy
import dataclasses
import pickle

import numpy
import pytest

from tests.utils.sweep_data_harness import case_registry, gen, same_outcome

CASES, case = case_registry()


def rows(lib, n=5):
    return lib.arange(n * 2, dtype=lib.float32).reshape(n, 2)


class Squares:
    """A map-style dataset that is not a Dataset subclass (anything with __getitem__/__len__ works)."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i

    def __len__(self):
        return self.n


def counting(lib, n, start=0):
    class Counting(lib.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(start, start + n))

        def __len__(self):
            return n
    return Counting()


Point = collections.namedtuple("Point", "x y")


@dataclasses.dataclass
class Pair:
    a: int
    b: float


# ---- datasets ----

@case("tensor_dataset_items")
def _(lib):
    ds = lib.utils.data.TensorDataset(rows(lib), lib.arange(5))
    return len(ds), ds[1], ds[-1], ds[1:3]


@case("tensor_dataset_mismatch")
def _(lib):
    return lib.utils.data.TensorDataset(rows(lib), lib.arange(4))


@case("tensor_dataset_out_of_range")
def _(lib):
    return lib.utils.data.TensorDataset(rows(lib))[5]


@case("dataset_base_getitem")
def _(lib):
    return lib.utils.data.Dataset()[0]


@case("dataset_base_len")
def _(lib):
    return len(lib.utils.data.Dataset())


@case("iterable_dataset_base_iter")
def _(lib):
    return list(lib.utils.data.IterableDataset())


@case("dataset_add_concat")
def _(lib):
    ds = lib.utils.data.TensorDataset(rows(lib, 2)) + lib.utils.data.TensorDataset(rows(lib, 3))
    return type(ds).__name__, len(ds), [ds[i] for i in range(5)], ds.cumulative_sizes


@case("iterable_add_chain")
def _(lib):
    ds = counting(lib, 2) + counting(lib, 3, 10)
    return type(ds).__name__, list(ds), len(ds)


@case("stack_dataset_tuple")
def _(lib):
    ds = lib.utils.data.StackDataset(rows(lib), Squares(5))
    return len(ds), ds[2], ds.__getitems__([0, 4])


@case("stack_dataset_dict")
def _(lib):
    ds = lib.utils.data.StackDataset(a=rows(lib), b=Squares(5))
    return len(ds), ds[2], ds.__getitems__([1, 3])


@case("stack_dataset_both")
def _(lib):
    return lib.utils.data.StackDataset(rows(lib), b=Squares(5))


@case("stack_dataset_none")
def _(lib):
    return lib.utils.data.StackDataset()


@case("stack_dataset_mismatch")
def _(lib):
    return lib.utils.data.StackDataset(rows(lib), Squares(4))


@case("stack_dataset_nested_getitems")
def _(lib):
    ds = lib.utils.data.StackDataset(lib.utils.data.Subset(Squares(9), [8, 7, 6]), Squares(3))
    return ds.__getitems__([2, 0])


@case("concat_dataset_indexing")
def _(lib):
    ds = lib.utils.data.ConcatDataset([Squares(2), Squares(3), Squares(1)])
    return len(ds), [ds[i] for i in range(6)], ds[-1], ds[-6], ds.cumulative_sizes


@case("concat_dataset_negative_too_far")
def _(lib):
    return lib.utils.data.ConcatDataset([Squares(2)])[-3]


@case("concat_dataset_past_end")
def _(lib):
    return lib.utils.data.ConcatDataset([Squares(2), Squares(2)])[4]


@case("concat_dataset_empty")
def _(lib):
    return lib.utils.data.ConcatDataset([])


@case("concat_dataset_iterable")
def _(lib):
    return lib.utils.data.ConcatDataset([Squares(2), counting(lib, 2)])


@case("concat_dataset_cumsum")
def _(lib):
    return lib.utils.data.ConcatDataset.cumsum([Squares(2), Squares(0), Squares(4)])


@case("chain_dataset")
def _(lib):
    ds = lib.utils.data.ChainDataset([counting(lib, 2), counting(lib, 1, 5)])
    return list(ds), len(ds)


@case("chain_dataset_map_style")
def _(lib):
    return list(lib.utils.data.ChainDataset([counting(lib, 2), Squares(2)]))


@case("chain_dataset_len_map_style")
def _(lib):
    return len(lib.utils.data.ChainDataset([Squares(2)]))


@case("subset")
def _(lib):
    ds = lib.utils.data.Subset(rows(lib), [4, 0, 2])
    return len(ds), ds[0], ds[-1], ds.__getitems__([2, 1]), ds[[0, 1]]


@case("subset_tensor_indices")
def _(lib):
    ds = lib.utils.data.Subset(Squares(6), lib.tensor([5, 1]))
    return len(ds), ds[0]


@case("random_split_lengths")
def _(lib):
    parts = lib.utils.data.random_split(range(10), [3, 7], generator=gen(lib))
    return [list(p) for p in parts], [type(p).__name__ for p in parts]


@case("random_split_fractions")
def _(lib):
    parts = lib.utils.data.random_split(range(11), [0.5, 0.3, 0.2], generator=gen(lib, 3))
    return [list(p.indices) for p in parts]


@case("random_split_fraction_zero_warns")
def _(lib):
    parts = lib.utils.data.random_split(range(3), [0.9, 0.1], generator=gen(lib))
    return [len(p) for p in parts]


@case("random_split_bad_sum")
def _(lib):
    return lib.utils.data.random_split(range(10), [3, 6])


@case("random_split_bad_fraction")
def _(lib):
    return lib.utils.data.random_split(range(10), [1.2, -0.2])


@case("random_split_fractions_not_one")
def _(lib):
    return lib.utils.data.random_split(range(10), [0.5, 0.4])


@case("random_split_default_generator")
def _(lib):
    lib.manual_seed(0)
    return [list(p) for p in lib.utils.data.random_split(range(8), [5, 3])]


@case("random_split_tensor_dataset")
def _(lib):
    parts = lib.utils.data.random_split(lib.utils.data.TensorDataset(rows(lib)), [2, 3], generator=gen(lib, 1))
    return [p[0] for p in parts]


# ---- samplers ----

@case("sequential_sampler")
def _(lib):
    s = lib.utils.data.SequentialSampler(range(4))
    return list(s), len(s)


def random_sampler_case(**kwargs):
    def fn(lib):
        s = lib.utils.data.RandomSampler(range(7), generator=gen(lib), **kwargs)
        return list(s), list(s), len(s)
    return fn


for _kwargs in [{}, {"replacement": True}, {"num_samples": 3}, {"num_samples": 17},
                {"replacement": True, "num_samples": 12}]:
    CASES["random_sampler_" + "_".join(f"{k}{v}" for k, v in _kwargs.items())] = random_sampler_case(**_kwargs)


@case("random_sampler_default_generator")
def _(lib):
    lib.manual_seed(5)
    s = lib.utils.data.RandomSampler(range(9))
    return list(s), list(s)


@case("random_sampler_default_generator_replacement")
def _(lib):
    lib.manual_seed(5)
    return list(lib.utils.data.RandomSampler(range(9), replacement=True, num_samples=6))


@case("random_sampler_bad_replacement")
def _(lib):
    return lib.utils.data.RandomSampler(range(3), replacement=1)


@case("random_sampler_bad_num_samples")
def _(lib):
    return lib.utils.data.RandomSampler(range(3), num_samples=0)


@case("random_sampler_float_num_samples")
def _(lib):
    return lib.utils.data.RandomSampler(range(3), num_samples=2.0)


@case("random_sampler_empty")
def _(lib):
    return lib.utils.data.RandomSampler([])


@case("subset_random_sampler")
def _(lib):
    s = lib.utils.data.SubsetRandomSampler([10, 20, 30, 40, 50], generator=gen(lib))
    return list(s), list(s), len(s)


@case("subset_random_sampler_default")
def _(lib):
    lib.manual_seed(2)
    return list(lib.utils.data.SubsetRandomSampler(range(6)))


@case("weighted_sampler")
def _(lib):
    s = lib.utils.data.WeightedRandomSampler([0.1, 0.9, 0.4, 0.0, 2.0], 10, generator=gen(lib))
    return list(s), len(s), s.weights


@case("weighted_sampler_no_replacement")
def _(lib):
    s = lib.utils.data.WeightedRandomSampler([0.1, 0.9, 0.4, 0.3, 2.0], 4, replacement=False, generator=gen(lib))
    return list(s), len(s)


@case("weighted_sampler_too_many_no_replacement")
def _(lib):
    return list(lib.utils.data.WeightedRandomSampler([1.0, 1.0], 3, replacement=False))


@case("weighted_sampler_tensor_weights")
def _(lib):
    return lib.utils.data.WeightedRandomSampler(lib.tensor([1, 2, 3]), 2).weights


@case("weighted_sampler_2d")
def _(lib):
    return lib.utils.data.WeightedRandomSampler([[1.0, 2.0]], 2)


@case("weighted_sampler_bad_num_samples")
def _(lib):
    return lib.utils.data.WeightedRandomSampler([1.0], 0)


@case("weighted_sampler_bool_num_samples")
def _(lib):
    return lib.utils.data.WeightedRandomSampler([1.0], True)


@case("weighted_sampler_bad_replacement")
def _(lib):
    return lib.utils.data.WeightedRandomSampler([1.0], 1, replacement=0)


@case("weighted_sampler_negative")
def _(lib):
    return list(lib.utils.data.WeightedRandomSampler([1.0, -1.0], 2))


@pytest.mark.parametrize("weights", [[1.0, float("inf")], [float("nan"), 1.0], [0.0, 0.0], [1.0, -1.0]])
@pytest.mark.parametrize("replacement,count", [(True, 2), (True, 1), (False, 1)])
def test_weighted_sampler_bad_weights(weights, replacement, count):
    same_outcome(lambda lib: list(lib.utils.data.WeightedRandomSampler(weights, count, replacement)))


@case("batch_sampler")
def _(lib):
    out = []
    for drop_last in (False, True):
        for size in (1, 3, 7, 8):
            s = lib.utils.data.BatchSampler(range(7), size, drop_last)
            out.append((list(s), len(s)))
    return out


@case("batch_sampler_of_sampler")
def _(lib):
    s = lib.utils.data.BatchSampler(lib.utils.data.RandomSampler(range(7), generator=gen(lib)), 3, False)
    return list(s)


@pytest.mark.parametrize("size", [0, -1, 2.0, True, None])
def test_batch_sampler_bad_size(size):
    same_outcome(lambda lib: lib.utils.data.BatchSampler(range(3), size, False))


@pytest.mark.parametrize("drop_last", [0, 1, None, "yes"])
def test_batch_sampler_bad_drop_last(drop_last):
    same_outcome(lambda lib: lib.utils.data.BatchSampler(range(3), 2, drop_last))


def distributed_case(n, replicas, shuffle, drop_last, seed, epoch):
    def fn(lib):
        out = []
        for rank in range(replicas):
            s = lib.utils.data.DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=shuffle,
                                                  seed=seed, drop_last=drop_last)
            s.set_epoch(epoch)
            out.append((list(s), len(s), s.num_samples, s.total_size))
        return out
    return fn


for _n, _r in [(10, 3), (2, 4), (9, 3), (1, 1), (7, 2)]:
    for _shuffle in (False, True):
        for _drop in (False, True):
            for _seed, _epoch in [(0, 0), (3, 5)]:
                CASES[f"distributed_n{_n}_r{_r}_sh{_shuffle}_drop{_drop}_s{_seed}_e{_epoch}"] = distributed_case(
                    _n, _r, _shuffle, _drop, _seed, _epoch)


@pytest.mark.parametrize("rank", [-1, 3, 4])
def test_distributed_sampler_bad_rank(rank):
    same_outcome(lambda lib: lib.utils.data.DistributedSampler(range(5), num_replicas=3, rank=rank))


def distributed(lib):
    return lib.utils.data.DistributedSampler


CASES.update({
    "distributed_empty": lambda lib: list(distributed(lib)([], 2, 0)),
    "distributed_empty_drop_last": lambda lib: list(distributed(lib)([], 2, 0, drop_last=True)),
    "distributed_zero_replicas": lambda lib: list(distributed(lib)(range(3), 0, 0)),
    "distributed_rank_only": lambda lib: list(distributed(lib)(range(3), rank=0)),
    "distributed_replicas_only": lambda lib: list(distributed(lib)(range(3), num_replicas=2)),
    "distributed_unsized": lambda lib: distributed(lib)(iter([]), 2, 0),
    "distributed_float_rank": lambda lib: list(distributed(lib)(range(6), 3, 1.0, shuffle=False)),
    "distributed_negative_seed": lambda lib: list(distributed(lib)(range(6), 2, 1, seed=-5)),
    "distributed_big_seeds": lambda lib: [list(distributed(lib)(range(6), 2, 1, seed=seed))
                                          for seed in (2 ** 40 + 3, 2 ** 63 - 1)],
    "distributed_negative_epoch": lambda lib: (lambda s: (s.set_epoch(-2), list(s))[1])(
        distributed(lib)(range(6), 2, 0)),
    "distributed_replicas_over_items_drop_last": lambda lib: [list(distributed(lib)(range(2), 5, r, drop_last=True))
                                                              for r in range(5)],
    "distributed_tensor_dataset": lambda lib: list(distributed(lib)(
        lib.utils.data.TensorDataset(lib.arange(7)), 3, 2, seed=9)),
    "distributed_falsy_shuffle": lambda lib: list(distributed(lib)(range(4), 2, 0, shuffle="")),
})


@case("distributed_sampler_no_process_group")
def _(lib):
    return lib.utils.data.DistributedSampler(range(5))


@case("sampler_base_iter")
def _(lib):
    return list(lib.utils.data.Sampler())


@case("sampler_base_len")
def _(lib):
    return len(lib.utils.data.Sampler())


# ---- collation ----

DTYPES = ["float16", "bfloat16", "float32", "float64", "complex64", "complex128", "int8", "uint8", "int16", "uint16",
          "int32", "uint32", "int64", "uint64", "bool"]


def collate_tensors_case(dtype):
    def fn(lib):
        d = getattr(lib, dtype)
        return lib.utils.data.default_collate([lib.ones(2, 3, dtype=d), lib.zeros(2, 3, dtype=d)])
    return fn


for _dtype in DTYPES:
    CASES[f"collate_tensor_{_dtype}"] = collate_tensors_case(_dtype)

NUMPY_DTYPES = ["float16", "float32", "float64", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64",
                "uint64", "bool", "complex64", "complex128"]


def collate_numpy_case(dtype, scalar):
    def fn(lib):
        items = [numpy.arange(3).astype(dtype), numpy.ones(3, dtype)]
        return lib.utils.data.default_collate([a[0] for a in items] if scalar else items)
    return fn


def convert_numpy_case(dtype, scalar):
    def fn(lib):
        a = numpy.arange(3).astype(dtype)
        return lib.utils.data.default_convert(a[1] if scalar else a)
    return fn


# Left out: a NumPy uint64 *scalar*, which PyTorch's tensor creation rejects ("an integer is required") and ember
# converts to a uint64 tensor (a tensor-creation difference, not data loading's).
for _dtype in NUMPY_DTYPES:
    for _scalar in (False, True) if _dtype != "uint64" else (False,):
        CASES[f"collate_numpy_{_dtype}_{'scalar' if _scalar else 'array'}"] = collate_numpy_case(_dtype, _scalar)
        CASES[f"convert_numpy_{_dtype}_{'scalar' if _scalar else 'array'}"] = convert_numpy_case(_dtype, _scalar)

ELEMENT_BATCHES = {
    "ints": [1, 2, 3],
    "floats": [1.5, 2.0],
    "bools": [True, False],
    "int_then_float": [1, 2.5],
    "float_then_int": [2.5, 1],
    "big_int": [2 ** 40, 1],
    "strings": ["a", "bc"],
    "bytes": [b"a", b"b"],
    "dicts": [{"a": 1, "b": [1.0, 2.0]}, {"a": 2, "b": [3.0, 4.0]}],
    "ordered_dicts": [collections.OrderedDict(b=1, a=2), collections.OrderedDict(b=3, a=4)],
    "namedtuples": [Point(1, 2.0), Point(3, 4.0)],
    "tuples": [(1, "x"), (2, "y")],
    "lists": [[1, 2], [3, 4]],
    "unequal_lists": [[1, 2], [3]],
    "nested": [{"p": Point([1, 2], {"q": 1.0})}, {"p": Point([3, 4], {"q": 2.0})}],
    "dataclasses": [Pair(1, 2.0), Pair(3, 4.0)],
    "none": [None, None],
    "objects": [object(), object()],
    "numpy_str_array": [numpy.array(["a"]), numpy.array(["b"])],
    "numpy_object_array": [numpy.array([1], dtype=object), numpy.array([2], dtype=object)],
    "numpy_str_scalar": [numpy.str_("a"), numpy.str_("b")],
    "numpy_bytes_scalar": [numpy.bytes_(b"a"), numpy.bytes_(b"b")],
    "numpy_0d": [numpy.array(1.5), numpy.array(2.5)],
    "sets": [{1}, {2}],
    "ranges": [range(2), range(2)],
    "empty": [],
}


def collate_elements_case(key):
    return lambda lib: lib.utils.data.default_collate(ELEMENT_BATCHES[key])


def convert_elements_case(key):
    return lambda lib: lib.utils.data.default_convert(ELEMENT_BATCHES[key])


for _key in ELEMENT_BATCHES:
    CASES[f"collate_{_key}"] = collate_elements_case(_key)
    CASES[f"convert_{_key}"] = convert_elements_case(_key)


def error_type(fn):
    """Only the type of ``fn``'s exception: for errors whose PyTorch message comes from elsewhere than data loading."""
    def wrapped(lib):
        try:
            return fn(lib)
        except Exception as error:   # noqa: BLE001
            return type(error).__name__
    return wrapped


# PyTorch converts a NumPy bytes_ scalar too (as_tensor's error; its message is tensor creation's, not compared).
CASES["convert_numpy_bytes_scalar"] = error_type(CASES["convert_numpy_bytes_scalar"])


@case("collate_tensor_shape_mismatch")
def _(lib):
    return lib.utils.data.default_collate([lib.ones(2), lib.ones(3)])


@case("collate_mixed_tensor_numpy")
def _(lib):
    return lib.utils.data.default_collate([(lib.ones(2), numpy.zeros(2)), (lib.zeros(2), numpy.ones(2))])


@case("collate_dict_missing_key")
def _(lib):
    return lib.utils.data.default_collate([{"a": 1}, {"b": 2}])


@case("convert_tensor_and_tuple")
def _(lib):
    return lib.utils.data.default_convert((numpy.ones(2), lib.ones(1), 3, "s"))


@case("convert_namedtuple_of_arrays")
def _(lib):
    return lib.utils.data.default_convert(Point(numpy.ones(2), numpy.int32(4)))


@case("collate_fn_map_custom")
def _(lib):
    from_lib = lib.utils.data._utils.collate

    def collate_pair(batch, *, collate_fn_map=None):
        return [p.a + p.b for p in batch]
    fn_map = {**from_lib.default_collate_fn_map, Pair: collate_pair}
    return from_lib.collate([{"p": Pair(1, 2.0), "t": lib.ones(1)}, {"p": Pair(3, 4.0), "t": lib.zeros(1)}],
                            collate_fn_map=fn_map)


@case("collate_fn_map_without_tensors")
def _(lib):
    return lib.utils.data._utils.collate.collate([lib.ones(1), lib.ones(1)], collate_fn_map={int: None})


@case("collate_fn_map_subclass_match")
def _(lib):
    class MyInt(int):
        pass
    return lib.utils.data._utils.collate.collate(
        [MyInt(1), MyInt(2)], collate_fn_map=lib.utils.data._utils.collate.default_collate_fn_map)


@case("collate_names")
def _(lib):
    module = lib.utils.data._utils.collate
    return sorted(n for n in ["collate", "default_collate", "default_convert", "default_collate_fn_map",
                              "collate_tensor_fn", "collate_numpy_array_fn", "collate_numpy_scalar_fn",
                              "collate_float_fn", "collate_int_fn", "collate_str_fn", "np_str_obj_array_pattern",
                              "default_collate_err_msg_format"] if hasattr(module, n))


class Frozen(collections.abc.Mapping):
    """A read-only mapping: collation rebuilds it from a dict."""

    def __init__(self, items):
        self.items_ = dict(items)

    def __getitem__(self, key):
        return self.items_[key]

    def __iter__(self):
        return iter(self.items_)

    def __len__(self):
        return len(self.items_)


MORE_BATCHES = {
    "defaultdicts": [collections.defaultdict(list, a=1), collections.defaultdict(list, a=2)],
    "frozen_mappings": [Frozen({"a": 1.0}), Frozen({"a": 2.0})],
    "userlists": [collections.UserList([1, 2]), collections.UserList([3, 4])],
    "deques": [collections.deque([1.0]), collections.deque([2.0])],
    "zero_dim_tensors": None,
    "tuple_of_unequal_tuples": [(1, 2), (3,)],
    "numpy_bool_scalars": [numpy.bool_(True), numpy.bool_(False)],
    "numpy_float16_scalars": [numpy.float16(1.5), numpy.float16(2)],
    "numpy_mixed_shapes": [numpy.ones(2), numpy.ones(3)],
    "numpy_mixed_dtypes": [numpy.ones(2, numpy.int32), numpy.ones(2, numpy.float64)],
    "numpy_datetime": [numpy.array([1], "datetime64[s]"), numpy.array([2], "datetime64[s]")],
    "numpy_bytes_array": [numpy.array([b"a"]), numpy.array([b"b"])],
    "complex_numbers": [1 + 2j, 3j],
    "strings_then_ints": ["a", 1],
}


def more_case(key, convert):
    def fn(lib):
        batch = MORE_BATCHES[key]
        if batch is None:
            batch = [lib.tensor(1.5), lib.tensor(2.5)]
        data = lib.utils.data
        return data.default_convert(batch) if convert else data.default_collate(batch)
    return fn


for _key in MORE_BATCHES:
    CASES[f"collate_{_key}"] = more_case(_key, False)
    CASES[f"convert_{_key}"] = more_case(_key, True)


class Label(str):
    """A str subclass: collation keeps the samples as they are."""


def sizes(lib):
    return [lib.Size([2, 3]), lib.Size([4, 5])]


@case("collate_sizes")
def _(lib):
    return lib.utils.data.default_collate(sizes(lib))


@case("convert_sizes")
def _(lib):
    return lib.utils.data.default_convert(sizes(lib))


@case("collate_str_subclass")
def _(lib):
    out = lib.utils.data.default_collate([Label("a"), Label("b")])
    return out, [type(x).__name__ for x in out]


@case("collate_memmap_like_subclass")
def _(lib):
    class Arr(numpy.ndarray):
        pass
    return lib.utils.data.default_collate([numpy.ones(2).view(Arr), numpy.zeros(2).view(Arr)])


@case("convert_ndarray_subclass")
def _(lib):
    class Arr(numpy.ndarray):
        pass
    return lib.utils.data.default_convert(numpy.ones(2).view(Arr))


@case("collate_nested_lists_of_tensors")
def _(lib):
    return lib.utils.data.default_collate([[lib.ones(2), [lib.zeros(1), 3]], [lib.zeros(2), [lib.ones(1), 4]]])


@case("collate_single_sample")
def _(lib):
    return lib.utils.data.default_collate([{"a": (lib.ones(1), 2.0)}])


@case("collate_mixed_tensor_dtypes")
def _(lib):
    return lib.utils.data.default_collate([lib.ones(2, dtype=lib.int32), lib.ones(2, dtype=lib.float32)])


@case("collate_requires_grad")
def _(lib):
    return lib.utils.data.default_collate([lib.ones(2, requires_grad=True), lib.ones(2)])


@case("collate_parameters")
def _(lib):
    return lib.utils.data.default_collate([lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.zeros(2))])


@case("convert_tensor_passes_through")
def _(lib):
    t = lib.ones(2)
    return lib.utils.data.default_convert(t) is t


@case("convert_array_shares_memory")
def _(lib):
    a = numpy.zeros(3, numpy.float32)
    t = lib.utils.data.default_convert(a)
    a[0] = 5
    return t


@case("sampler_data_source_argument")
def _(lib):
    return type(lib.utils.data.Sampler(range(3))).__name__


@case("batch_sampler_unsized_sampler_len")
def _(lib):
    return len(lib.utils.data.BatchSampler(iter(range(5)), 2, False))


@case("batch_sampler_generator_sampler")
def _(lib):
    return list(lib.utils.data.BatchSampler(iter(range(5)), 2, True))


@case("subset_random_sampler_tensor_indices")
def _(lib):
    return list(lib.utils.data.SubsetRandomSampler(lib.tensor([3, 1, 4]), generator=gen(lib)))


@case("weighted_sampler_numpy_arguments")
def _(lib):
    s = lib.utils.data.WeightedRandomSampler(numpy.array([1.0, 3.0]), 3, generator=gen(lib))
    return list(s), s.weights


@case("weighted_sampler_numpy_count")
def _(lib):
    return lib.utils.data.WeightedRandomSampler([1.0, 3.0], numpy.int64(3))


@case("random_sampler_numpy_count")
def _(lib):
    return lib.utils.data.RandomSampler(range(3), num_samples=numpy.int64(3))


@case("random_sampler_bool_count")
def _(lib):
    return len(lib.utils.data.RandomSampler(range(3), num_samples=True))


@case("random_split_tenths")
def _(lib):
    return [len(p) for p in lib.utils.data.random_split(range(7), [0.1] * 10, generator=gen(lib))]


@case("random_split_tensor_lengths")
def _(lib):
    return [list(p) for p in lib.utils.data.random_split(range(5), lib.tensor([2, 3]), generator=gen(lib))]


@case("random_split_empty_dataset")
def _(lib):
    return [len(p) for p in lib.utils.data.random_split([], [0.5, 0.5], generator=gen(lib))]


@case("subset_of_subset")
def _(lib):
    inner = lib.utils.data.Subset(Squares(10), [9, 8, 7, 6])
    outer = lib.utils.data.Subset(inner, [3, 0])
    return [outer[0], outer[1]], outer.__getitems__([1, 0])


@case("tensor_dataset_empty")
def _(lib):
    return len(lib.utils.data.TensorDataset())


@case("tensor_dataset_index_tensor")
def _(lib):
    return lib.utils.data.TensorDataset(rows(lib))[lib.tensor([0, 2])]


@case("stack_dataset_kwargs_mismatch")
def _(lib):
    return lib.utils.data.StackDataset(a=Squares(2), b=Squares(3))


@case("stack_dataset_getitems_wrong_size")
def _(lib):
    class Short(lib.utils.data.Dataset):
        def __getitems__(self, indices):
            return [0]

        def __len__(self):
            return 3
    return lib.utils.data.StackDataset(Short(), Squares(3)).__getitems__([0, 1])


@case("chain_dataset_unsized_len")
def _(lib):
    class Unsized(lib.utils.data.IterableDataset):
        def __iter__(self):
            return iter([1])
    return len(lib.utils.data.ChainDataset([Unsized()]))


@case("iterable_subclass_without_iter")
def _(lib):
    class Partial(lib.utils.data.IterableDataset):
        pass
    return Partial()


@case("iterable_isinstance")
def _(lib):
    class Stream:
        def __iter__(self):
            return iter([])
    return isinstance(Stream(), lib.utils.data.IterableDataset), isinstance(counting(lib, 1), lib.utils.data.Dataset)


@case("concat_dataset_of_tensor_datasets_add")
def _(lib):
    ds = lib.utils.data.TensorDataset(rows(lib, 2)) + lib.utils.data.TensorDataset(rows(lib, 1)) + Squares(2)
    return type(ds).__name__, len(ds), [type(d).__name__ for d in ds.datasets]


EDGES = {
    "loader_unsized_dataset": lambda lib: list(lib.utils.data.DataLoader(iter(range(3)))),
    "collate_bytearrays": lambda lib: lib.utils.data.default_collate([bytearray(b"a"), bytearray(b"b")]),
    "loader_sampler_no_batching": lambda lib: list(lib.utils.data.DataLoader(range(5), batch_size=None,
                                                                             sampler=[3, 1])),
    "subset_out_of_range": lambda lib: lib.utils.data.Subset(range(3), [5])[0],
    "sequential_sampler_unsized": lambda lib: len(lib.utils.data.SequentialSampler(iter([]))),
    "random_sampler_bad_generator": lambda lib: list(lib.utils.data.RandomSampler(range(3), generator=3)),
    "concat_tensor_index": lambda lib: lib.utils.data.ConcatDataset([range(3), range(2)])[lib.tensor(3)],
    "concat_numpy_index": lambda lib: lib.utils.data.ConcatDataset([range(3), range(2)])[numpy.int64(-2)],
    "tensor_dataset_list_index": lambda lib: lib.utils.data.TensorDataset(lib.arange(4))[[0, 2]],
    "weighted_sampler_empty": lambda lib: list(lib.utils.data.WeightedRandomSampler([], 2)),
    "random_split_negative": lambda lib: lib.utils.data.random_split(range(4), [5, -1]),
    "random_split_fractions_rounding": lambda lib: [len(p) for p in lib.utils.data.random_split(
        range(4), [0.3, 0.7 - 1e-12], generator=gen(lib, 0))],
    "stack_dataset_dict_getitems": lambda lib: lib.utils.data.StackDataset(a=range(3)).__getitems__([2]),
    "collate_empty_dicts": lambda lib: lib.utils.data.default_collate([{}, {}]),
    "collate_empty_tuples": lambda lib: lib.utils.data.default_collate([(), ()]),
    "convert_set": lambda lib: lib.utils.data.default_convert({numpy.int64(1)}),
    "convert_str": lambda lib: lib.utils.data.default_convert("abc"),
    "convert_str_array_in_list": lambda lib: lib.utils.data.default_convert([numpy.array(["a"]), numpy.array([1])]),
    "distributed_float_replicas": lambda lib: list(lib.utils.data.DistributedSampler(range(5), num_replicas=2.0,
                                                                                      rank=0, shuffle=False)),
    "batch_sampler_none_sampler": lambda lib: list(lib.utils.data.BatchSampler(None, 2, False)),
    "loader_bad_collate_fn": lambda lib: list(lib.utils.data.DataLoader(range(3), collate_fn=3)),
    "loader_unsized_sampler_len": lambda lib: len(lib.utils.data.DataLoader(range(9), sampler=iter([1, 2]))),
}
CASES.update(EDGES)


def attributes(obj, names):
    return [(name, getattr(obj, name, "<missing>")) for name in names]


def roundtrip(obj):
    return pickle.loads(pickle.dumps(obj))


STATE = {
    "random_sampler_attributes": lambda lib: attributes(lib.utils.data.RandomSampler(range(5), num_samples=3), [
        "replacement", "num_samples", "_num_samples", "generator", "data_source"]),
    "batch_sampler_attributes": lambda lib: attributes(lib.utils.data.BatchSampler(range(5), 2, True), [
        "batch_size", "drop_last", "sampler"]),
    "distributed_attributes": lambda lib: attributes(lib.utils.data.DistributedSampler(range(5), 2, 1, seed=3), [
        "num_replicas", "rank", "epoch", "shuffle", "seed", "drop_last", "num_samples", "total_size", "dataset"]),
    "weighted_attributes": lambda lib: attributes(lib.utils.data.WeightedRandomSampler([1, 2], 3), [
        "weights", "num_samples", "replacement", "generator"]),
    "subset_random_attributes": lambda lib: attributes(lib.utils.data.SubsetRandomSampler([1, 2]), [
        "indices", "generator"]),
    "concat_attributes": lambda lib: attributes(lib.utils.data.ConcatDataset((range(2), range(3))), [
        "datasets", "cumulative_sizes"]),
    "stack_attributes": lambda lib: attributes(lib.utils.data.StackDataset(range(2), range(2)), ["datasets"]),
    "subset_attributes": lambda lib: attributes(lib.utils.data.Subset(range(4), (1, 2)), ["dataset", "indices"]),
    "pickled_sampler": lambda lib: list(roundtrip(lib.utils.data.RandomSampler(range(6), generator=gen(lib)))),
    "deepcopied_sampler": lambda lib: list(copy.deepcopy(lib.utils.data.RandomSampler(range(6), generator=gen(lib)))),
    "pickled_loader": lambda lib: list(roundtrip(lib.utils.data.DataLoader(range(6), batch_size=4, shuffle=True,
                                                                           generator=gen(lib)))),
    "pickled_tensor_dataset": lambda lib: roundtrip(lib.utils.data.TensorDataset(lib.arange(3)))[1],
    "iterator_types": lambda lib: [type(iter(x)).__name__ for x in [
        lib.utils.data.DataLoader(range(3)), lib.utils.data.RandomSampler(range(3)),
        lib.utils.data.SequentialSampler(range(3)), lib.utils.data.BatchSampler(range(3), 2, False),
        lib.utils.data.DistributedSampler(range(3), 1, 0), lib.utils.data.ChainDataset([]),
        lib.utils.data.SubsetRandomSampler([1]), lib.utils.data.WeightedRandomSampler([1.0], 1)]],
    "loader_next_after_end": lambda lib: (lambda it: (list(it), next(it, "end")))(
        iter(lib.utils.data.DataLoader(range(2)))),
}
CASES.update(STATE)


@pytest.mark.parametrize("n", [100, 5000, 70000])
def test_random_orders_at_size(n):
    """Orders from seeded generators at sizes where PyTorch's kernels may change strategy."""
    def fn(lib):
        data = lib.utils.data
        return (list(data.RandomSampler(range(n), generator=gen(lib))),
                list(data.RandomSampler(range(n), replacement=True, num_samples=n + 37, generator=gen(lib))),
                list(data.SubsetRandomSampler(range(n), generator=gen(lib))),
                [list(p) for p in data.random_split(range(n), [0.25, 0.75], generator=gen(lib))],
                list(data.DistributedSampler(range(n), num_replicas=3, rank=2, seed=n)),
                list(data.WeightedRandomSampler([1.0 + i % 7 for i in range(min(n, 300))], n, generator=gen(lib))),
                list(data.WeightedRandomSampler([1.0 + i % 7 for i in range(300)], 100, False, generator=gen(lib))))
    same_outcome(fn)


@pytest.mark.parametrize("name", sorted(CASES))
def test_sweep(name):
    same_outcome(CASES[name])
