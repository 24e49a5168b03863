"""ember.utils.data in the main process: datasets, samplers, collation and DataLoader, checked against torch."""
import collections
import os
import warnings

import numpy
import pytest
import torch
import torch.utils.data

import ember
import ember.utils.data
from tests.oracle import check_error

Point = collections.namedtuple("Point", ["x", "y"])


def data(lib):
    return lib.utils.data


def assert_same_structure(e, t, path="batch"):
    """Same containers, same leaves: tensors agree in dtype, shape and values; other leaves are equal."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{path}: {type(e).__name__} is not a tensor"
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], f"{path}: {e.dtype} vs {t.dtype}"
        assert tuple(e.shape) == tuple(t.shape), f"{path}: {tuple(e.shape)} vs {tuple(t.shape)}"
        numpy.testing.assert_array_equal(numpy.asarray(e), t.numpy(), err_msg=path)
    elif isinstance(t, dict):
        assert type(e) is type(t) and list(e) == list(t), path
        for key in t:
            assert_same_structure(e[key], t[key], f"{path}[{key!r}]")
    elif isinstance(t, (list, tuple)):
        assert type(e) is type(t) and len(e) == len(t), f"{path}: {type(e).__name__} vs {type(t).__name__}"
        for i, (a, b) in enumerate(zip(e, t)):
            assert_same_structure(a, b, f"{path}[{i}]")
    else:
        assert type(e) is type(t) and e == t, f"{path}: {e!r} vs {t!r}"


def to_lib(lib, value):
    """Nested data with NumPy arrays marked ``("tensor", array)`` turned into ``lib`` tensors."""
    if isinstance(value, tuple) and len(value) == 2 and value[0] == "tensor":
        return lib.from_numpy(value[1].copy())
    if isinstance(value, dict):
        return {k: to_lib(lib, v) for k, v in value.items()}
    if isinstance(value, Point):
        return Point(*(to_lib(lib, v) for v in value))
    if isinstance(value, (list, tuple)):
        return type(value)(to_lib(lib, v) for v in value)
    return value


# --- samplers -----------------------------------------------------------------------------------------------

def test_sequential_sampler_matches_torch():
    for n in (0, 1, 7):
        assert list(ember.utils.data.SequentialSampler(range(n))) == list(torch.utils.data.SequentialSampler(range(n)))
        assert len(ember.utils.data.SequentialSampler(range(n))) == n


@pytest.mark.parametrize("n,batch_size,drop_last", [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False),
                                                    (2, 5, True), (0, 2, False)])
def test_batch_sampler_matches_torch(n, batch_size, drop_last):
    def batches(lib):
        return data(lib).BatchSampler(data(lib).SequentialSampler(range(n)), batch_size, drop_last)
    assert list(batches(ember)) == list(batches(torch))
    assert len(batches(ember)) == len(batches(torch))


@pytest.mark.parametrize("kwargs", [dict(batch_size=0, drop_last=False), dict(batch_size=True, drop_last=False),
                                    dict(batch_size=2.0, drop_last=False), dict(batch_size=2, drop_last=1)])
def test_batch_sampler_errors(kwargs):
    check_error(lambda lib: data(lib).BatchSampler(range(4), **kwargs))


def test_random_sampler_is_a_permutation_reproducible_with_manual_seed():
    sampler = ember.utils.data.RandomSampler(range(50))
    ember.manual_seed(3)
    first = list(sampler)
    second = list(sampler)
    ember.manual_seed(3)
    assert list(sampler) == first
    assert sorted(first) == list(range(50)) and first != second and len(sampler) == 50


def test_random_sampler_with_generator_and_num_samples():
    def draw(seed, **kwargs):
        generator = ember.Generator()
        generator.manual_seed(seed)
        return list(ember.utils.data.RandomSampler(range(10), generator=generator, **kwargs))
    assert draw(1) == draw(1) != draw(2)
    more = draw(1, num_samples=25)
    assert len(more) == 25 and sorted(more[:20]) == sorted(list(range(10)) * 2)
    drawn = draw(1, replacement=True, num_samples=40)
    assert len(drawn) == 40 and all(0 <= i < 10 for i in drawn)


@pytest.mark.parametrize("kwargs", [dict(replacement=1), dict(num_samples=0), dict(num_samples=2.5)])
def test_random_sampler_errors(kwargs):
    check_error(lambda lib: data(lib).RandomSampler(range(5), **kwargs))


def test_subset_random_sampler():
    indices = [3, 8, 12, 20]
    drawn = list(ember.utils.data.SubsetRandomSampler(indices))
    assert sorted(drawn) == indices and len(ember.utils.data.SubsetRandomSampler(indices)) == 4


def test_weighted_random_sampler():
    ember.manual_seed(0)
    with_replacement = list(ember.utils.data.WeightedRandomSampler([0.0, 1.0, 3.0, 0.0], 200))
    assert len(with_replacement) == 200 and set(with_replacement) == {1, 2}
    assert with_replacement.count(2) > with_replacement.count(1)
    without = list(ember.utils.data.WeightedRandomSampler([0.1, 0.9, 0.4, 0.7, 3.0], 5, replacement=False))
    assert sorted(without) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("args", [([1.0, 2.0], 0), ([1.0, 2.0], True), ([[1.0, 2.0]], 2), ([1.0], 2, 1)])
def test_weighted_random_sampler_errors(args):
    check_error(lambda lib: data(lib).WeightedRandomSampler(*args))


# --- datasets -----------------------------------------------------------------------------------------------

class Squares:
    """A map-style dataset that is not a Dataset subclass, as DataLoader allows."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i


def test_subset_and_concat_indexing_match_torch():
    def build(lib):
        concat = data(lib).ConcatDataset([Squares(3), Squares(4), Squares(0), Squares(2)])
        return concat, data(lib).Subset(concat, [8, 0, 4, 3])
    (e_concat, e_subset), (t_concat, t_subset) = build(ember), build(torch)
    assert len(e_concat) == len(t_concat) == 9 and e_concat.cumulative_sizes == t_concat.cumulative_sizes
    assert [e_concat[i] for i in range(-9, 9)] == [t_concat[i] for i in range(-9, 9)]
    assert [e_subset[i] for i in range(4)] == [t_subset[i] for i in range(4)]
    assert e_subset.__getitems__([1, 3]) == t_subset.__getitems__([1, 3]) and len(e_subset) == 4
    check_error(lambda lib: build(lib)[0][-10])
    check_error(lambda lib: build(lib)[0][9])
    check_error(lambda lib: data(lib).ConcatDataset([]))


def test_dataset_addition_and_chaining():
    class Numbers(ember.utils.data.IterableDataset):
        def __init__(self, values):
            self.values = values

        def __iter__(self):
            return iter(self.values)

        def __len__(self):
            return len(self.values)

    class Letters(ember.utils.data.Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return "ab"[i]

    assert [x for x in Numbers([1, 2]) + Numbers([3])] == [1, 2, 3] and len(Numbers([1, 2]) + Numbers([3])) == 3
    both = Letters() + Letters()
    assert isinstance(both, ember.utils.data.ConcatDataset) and [both[i] for i in range(4)] == list("abab")
    with pytest.raises(AssertionError):
        ember.utils.data.ConcatDataset([Numbers([1])])
    with pytest.raises(AssertionError):
        list(ember.utils.data.ChainDataset([Letters()]))


def test_stack_dataset():
    as_tuple = ember.utils.data.StackDataset(Squares(3), [10, 11, 12])
    as_dict = ember.utils.data.StackDataset(sq=Squares(3), plain=[10, 11, 12])
    assert as_tuple[2] == (4, 12) and as_dict[1] == {"sq": 1, "plain": 11} and len(as_tuple) == 3
    assert as_tuple.__getitems__([0, 2]) == [(0, 10), (4, 12)]
    assert as_dict.__getitems__([2]) == [{"sq": 4, "plain": 12}]
    check_error(lambda lib: data(lib).StackDataset(Squares(3), Squares(2)))
    check_error(lambda lib: data(lib).StackDataset(Squares(3), b=Squares(3)))
    check_error(lambda lib: data(lib).StackDataset())


def test_tensor_dataset():
    if not hasattr(ember.Tensor, "__getitem__"):
        pytest.skip("Tensor indexing (ember.ops.indexing) is not written yet")
    x, y = numpy.arange(12.0).reshape(4, 3), numpy.arange(4)
    dataset = ember.utils.data.TensorDataset(ember.from_numpy(x), ember.from_numpy(y))
    assert len(dataset) == 4
    row, label = dataset[2]
    numpy.testing.assert_array_equal(numpy.asarray(row), x[2])
    assert int(label) == 2
    check_error(lambda lib: data(lib).TensorDataset(lib.zeros(3), lib.zeros(2)))


@pytest.mark.parametrize("lengths", [[3, 7], [0, 10], [0.3, 0.7], [0.25, 0.25, 0.5], [1 / 3] * 3, [0.1] * 10])
def test_random_split_lengths_match_torch(lengths):
    splits = ember.utils.data.random_split(range(10), lengths)
    expected = torch.utils.data.random_split(range(10), lengths)
    assert [len(s) for s in splits] == [len(s) for s in expected]
    assert sorted(i for s in splits for i in s.indices) == list(range(10))


def test_random_split_with_generator_and_warnings():
    def split(seed):
        generator = ember.Generator()
        generator.manual_seed(seed)
        return [s.indices for s in ember.utils.data.random_split(range(20), [0.5, 0.5], generator=generator)]
    assert split(4) == split(4) != split(5)
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        ember.utils.data.random_split(range(2), [0.5, 0.0, 0.5])
    check_error(lambda lib: data(lib).random_split(range(10), [3, 3]))
    check_error(lambda lib: data(lib).random_split(range(10), [1.5, -0.5]))


# --- collation ----------------------------------------------------------------------------------------------

A = numpy.arange(6, dtype=numpy.float32).reshape(2, 3)
B = numpy.arange(6, 12, dtype=numpy.int64).reshape(2, 3)

COLLATE_BATCHES = {
    "ints": [1, 2, 3],
    "floats": [0.5, 1.5],
    "bools": [True, False],
    "strings": ["a", "bc"],
    "bytes": [b"a", b"b"],
    "numpy_float32": [A, A + 1],
    "numpy_int64": [B, B],
    "numpy_scalars": [numpy.float32(1.5), numpy.float32(2.5)],
    "numpy_int_scalars": [numpy.int16(1), numpy.int16(2)],
    "numpy_0d": [numpy.array(1.0), numpy.array(2.0)],
    "tensors": [("tensor", A), ("tensor", A * 2)],
    "int_tensors": [("tensor", B), ("tensor", B)],
    "empty_tensors": [("tensor", numpy.zeros((0, 2), numpy.float32))] * 3,
    "tuples": [(1, "x", 0.5), (2, "y", 1.5)],
    "lists": [[1, 2.0], [3, 4.0]],
    "dicts": [{"image": A, "label": 1, "name": "a"}, {"image": A, "label": 0, "name": "b"}],
    "namedtuples": [Point(1, ("tensor", A)), Point(2, ("tensor", A))],
    "nested": [{"pair": (1, [A, {"k": 0.5}])}, {"pair": (2, [A, {"k": 1.5}])}],
}


@pytest.mark.parametrize("name", COLLATE_BATCHES)
def test_default_collate_matches_torch(name):
    batch = COLLATE_BATCHES[name]
    expected = torch.utils.data.default_collate(to_lib(torch, batch))
    assert_same_structure(ember.utils.data.default_collate(to_lib(ember, batch)), expected)


@pytest.mark.parametrize("name", ["ints", "strings", "numpy_float32", "numpy_scalars", "tuples", "dicts", "nested",
                                  "tensors"])
def test_default_convert_matches_torch(name):
    sample = COLLATE_BATCHES[name]
    expected = torch.utils.data.default_convert(to_lib(torch, sample))
    assert_same_structure(ember.utils.data.default_convert(to_lib(ember, sample)), expected)
    assert_same_structure(ember.utils.data.default_convert(to_lib(ember, sample[0])),
                          torch.utils.data.default_convert(to_lib(torch, sample[0])))


def test_private_collate_module_extends_as_torch():
    # MONAI's collate: a tensor subclass collated by collate_tensor_fn through a copy of default_collate_fn_map,
    # both imported from torch.utils.data._utils.collate; its image reader reads np_str_obj_array_pattern there too
    import importlib
    results = []
    for lib in (ember, torch):
        collate = importlib.import_module(f"{lib.__name__}.utils.data._utils.collate")
        worker = importlib.import_module(f"{lib.__name__}.utils.data._utils.worker")
        assert worker.get_worker_info() is None and collate.default_collate is lib.utils.data.default_collate
        assert collate.np_str_obj_array_pattern.search(numpy.array(["a"]).dtype.str)
        assert lib.utils.data._utils.MP_STATUS_CHECK_INTERVAL == 5.0

        class Meta(lib.Tensor):
            pass

        def collate_meta(batch, *, collate_fn_map=None):
            return ("meta", collate.collate_tensor_fn(batch, collate_fn_map=collate_fn_map))

        fn_map = {**collate.default_collate_fn_map, Meta: collate_meta}
        batch = [{"image": lib.tensor(A).as_subclass(Meta), "n": numpy.int16(k), "x": float(k)} for k in range(3)]
        out = collate.collate(batch, collate_fn_map=fn_map)
        parts = [collate.collate_numpy_array_fn([A, A + 1], collate_fn_map=fn_map),
                 collate.collate_numpy_scalar_fn([numpy.float32(1)]), collate.collate_float_fn([0.5]),
                 collate.collate_int_fn([3]), collate.collate_str_fn(["s"])]
        results.append((out["image"][0], type(out["image"][1]).__name__, out["image"][1].as_subclass(lib.Tensor),
                        out["n"], out["x"], parts))
    assert_same_structure(*results)


@pytest.mark.parametrize("batch", [[[1, 2], [3]], [object(), object()], [numpy.array(["a"]), numpy.array(["b"])],
                                   [None, None]])
def test_default_collate_errors(batch):
    check_error(lambda lib: data(lib).default_collate(batch))


# --- DataLoader in the main process -------------------------------------------------------------------------

class Samples(ember.utils.data.Dataset):
    """Samples mixing an array, an int, a float and a string, the same for both libraries."""

    def __len__(self):
        return 11

    def __getitem__(self, i):
        return {"x": numpy.full((2,), i, dtype=numpy.float32), "label": i % 3, "weight": i / 2, "name": str(i)}


def stream(lib, n, reported_len=None):
    """An iterable dataset of ``lib`` yielding ``0..n-1`` whose ``len`` reports ``reported_len`` (default n)."""
    class Stream(data(lib).IterableDataset):
        def __iter__(self):
            return iter(range(n))

        def __len__(self):
            return n if reported_len is None else reported_len
    return Stream()


LOADER_OPTIONS = [dict(), dict(batch_size=4), dict(batch_size=4, drop_last=True), dict(batch_size=None),
                  dict(batch_size=20), dict(sampler=[3, 1, 4, 1, 5], batch_size=2),
                  dict(batch_sampler=[[0, 1], [5], [2, 3, 4]]), dict(batch_size=3, collate_fn=lambda b: len(b))]


@pytest.mark.parametrize("options", LOADER_OPTIONS)
def test_dataloader_batches_and_len_match_torch(options):
    e_loader = ember.utils.data.DataLoader(Samples(), **options)
    t_loader = torch.utils.data.DataLoader(Samples(), **options)
    assert len(e_loader) == len(t_loader)
    e_batches, t_batches = list(e_loader), list(t_loader)
    assert len(e_batches) == len(t_batches)
    for e, t in zip(e_batches, t_batches):
        assert_same_structure(e, t)


@pytest.mark.parametrize("options", [dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None),
                                     dict(batch_size=10)])
def test_dataloader_iterable_dataset_matches_torch(options):
    e_loader = ember.utils.data.DataLoader(stream(ember, 7), **options)
    t_loader = torch.utils.data.DataLoader(stream(torch, 7), **options)
    assert len(e_loader) == len(t_loader)
    for e, t in zip(list(e_loader), list(t_loader), strict=True):
        assert_same_structure(e, t)


def test_dataloader_shuffle_is_reproducible_with_manual_seed():
    loader = ember.utils.data.DataLoader(range(20), batch_size=5, shuffle=True)
    ember.manual_seed(7)
    first = [b.tolist() for b in loader]
    second = [b.tolist() for b in loader]
    ember.manual_seed(7)
    assert [b.tolist() for b in loader] == first != second
    assert sorted(sum(first, [])) == list(range(20))


@pytest.mark.parametrize("kwargs", [
    dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2), dict(num_workers=1, prefetch_factor=-1),
    dict(persistent_workers=True), dict(batch_sampler=[[0]], batch_size=2), dict(batch_sampler=[[0]], shuffle=True),
    dict(batch_sampler=[[0]], sampler=[0]), dict(batch_sampler=[[0]], drop_last=True), dict(sampler=[0], shuffle=True),
    dict(batch_size=None, drop_last=True), dict(multiprocessing_context="fork"),
    dict(num_workers=1, multiprocessing_context="no-such-method"), dict(num_workers=1, multiprocessing_context=3)])
def test_dataloader_argument_errors_match_torch(kwargs):
    error = check_error(lambda lib: data(lib).DataLoader(range(4), **kwargs))
    with pytest.raises(type(error)) as torch_error:
        torch.utils.data.DataLoader(range(4), **kwargs)
    assert str(error) == str(torch_error.value)


@pytest.mark.parametrize("kwargs", [dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])])
def test_dataloader_iterable_dataset_argument_errors(kwargs):
    check_error(lambda lib: data(lib).DataLoader(stream(lib, 3), **kwargs), match="IterableDataset")


@pytest.mark.skipif(ember.cuda.is_available(), reason="with a GPU, pin_memory pins (tests/cuda checks that)")
def test_dataloader_attributes_are_frozen_and_pin_memory_is_a_no_op():
    loader = ember.utils.data.DataLoader(range(4), batch_size=2, pin_memory=True)
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 3
    with pytest.warns(UserWarning, match="pin_memory"):
        assert [b.tolist() for b in loader] == [[0, 1], [2, 3]]


def test_iterable_dataset_longer_than_its_len_warns():
    loader = ember.utils.data.DataLoader(stream(ember, 3, reported_len=2), batch_size=None)
    assert len(loader) == 2
    with pytest.warns(UserWarning, match="Length of IterableDataset"):
        assert list(loader) == [0, 1, 2]


def test_get_worker_info_in_main_process_is_none():
    assert ember.utils.data.get_worker_info() is None


DATA_CLASSES = ["Dataset", "IterableDataset", "Subset", "ConcatDataset", "ChainDataset", "StackDataset",
                "TensorDataset", "DataLoader", "Sampler", "SequentialSampler", "RandomSampler", "BatchSampler",
                "SubsetRandomSampler", "WeightedRandomSampler", "DistributedSampler"]


@pytest.mark.parametrize("name", DATA_CLASSES)
def test_data_classes_subscript_like_torch(name):
    """Typed subclasses (`class S(Sampler[list[int]])`, as timm writes) need the generic bases torch has; the
    concrete ones stay non-generic."""
    def subscript(lib):
        return getattr(data(lib), name)[int]
    try:
        subscript(torch)
    except TypeError:
        check_error(subscript)
        return
    alias = subscript(ember)
    assert alias.__origin__ is getattr(ember.utils.data, name)


def test_typed_sampler_and_dataset_subclasses_iterate():
    for lib in (torch, ember):
        class Pairs(data(lib).Dataset[tuple]):
            def __len__(self):
                return 3

            def __getitem__(self, i):
                return (i, i * i)

        class Batches(data(lib).Sampler[list]):
            def __iter__(self):
                return iter([[0, 2], [1]])

            def __len__(self):
                return 2
        loader = data(lib).DataLoader(Pairs(), batch_sampler=Batches())
        got = [[b.tolist() for b in batch] for batch in loader]
        assert got == [[[0, 2], [0, 4]], [[1], [1]]]


def test_dataloader_worker_number_warning_points_at_the_loader_as_pytorchs(monkeypatch):
    """More workers than CPUs: PyTorch warns at the loader's own lines, on construction and when an iteration
    starts (stacklevel=2), so a process shows each once, however many lines build or iterate loaders."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    for lib in (torch, ember):
        module = lib.utils.data.dataloader
        monkeypatch.setattr(module, "_MultiProcessingDataLoaderIter", lambda loader: None)   # no workers started
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loader = lib.utils.data.DataLoader(lib.utils.data.TensorDataset(lib.arange(4.0)), batch_size=2,
                                               num_workers=2)
            loader._get_iterator()
        assert [w.filename for w in caught] == [module.__file__] * 2, lib
        assert all("This DataLoader will create 2 worker processes in total" in str(w.message) for w in caught)
