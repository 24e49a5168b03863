"""The loader iterators driven by a loader object of a library's own, as fastai's DataLoader drives them: it hands
``_SingleProcessDataLoaderIter`` / ``_MultiProcessingDataLoaderIter`` an object with the attributes PyTorch's iterators
read (``_dataset_kind = _DatasetKind.Iterable``, an endless ``_index_sampler``, an identity ``collate_fn``), whose
``__iter__`` yields whole batches. Each run on torch and on ember must give the same batches."""
import importlib
import itertools
import multiprocessing

import pytest

import ember

torch = pytest.importorskip("torch")


def _batches(lib, num_workers, worker_ids):
    """Batches of an "own loader" in fastai's shape: each worker yields every ``num_workers``-th batch."""
    from_dataloader = importlib.import_module(f"{lib.__name__}.utils.data.dataloader")

    class OwnLoader:
        _IterableDataset_len_called, _auto_collation, drop_last, in_order = None, False, False, True
        generator, prefetch_factor, timeout, pin_memory, pin_memory_device = None, 2, 0, False, ""
        persistent_workers = False
        _dataset_kind = from_dataloader._DatasetKind.Iterable

        def __init__(self, num_workers):
            self.num_workers, self.dataset, self._index_sampler = num_workers, self, itertools.count()

        @staticmethod
        def collate_fn(batch):
            return batch

        @staticmethod
        def worker_init_fn(worker_id):
            worker_ids.append(worker_id)

        def _get_shared_seed(self):
            return None

        @property
        def multiprocessing_context(self):   # fastai hands over the multiprocessing module itself
            return multiprocessing if self.num_workers else None

        def __iter__(self):
            info = lib.utils.data.get_worker_info()
            offset, step = (0, 1) if info is None else (info.id, info.num_workers)
            for start in range(offset * 3, 12, step * 3):
                yield lib.arange(start, start + 3) * 10, lib.tensor(start // 3)

    iterator_class = (from_dataloader._MultiProcessingDataLoaderIter if num_workers
                      else from_dataloader._SingleProcessDataLoaderIter)
    return [(xb.tolist(), int(yb)) for xb, yb in iterator_class(OwnLoader(num_workers))]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("num_workers", [0, 2])
def test_own_loader_drives_the_iterators_as_in_torch(num_workers):
    theirs = _batches(torch, num_workers, [])
    ours = _batches(ember, num_workers, [])
    assert ours == theirs
    assert sorted(ours, key=lambda batch: batch[1]) == [([0, 10, 20], 0), ([30, 40, 50], 1), ([60, 70, 80], 2),
                                                         ([90, 100, 110], 3)]


def test_dataset_kind_and_its_fetchers_as_torch():
    from ember.utils.data import _DatasetKind
    from torch.utils.data import _DatasetKind as TorchKind
    assert (_DatasetKind.Map, _DatasetKind.Iterable) == (TorchKind.Map, TorchKind.Iterable) == (0, 1)
    assert ember.utils.data.DataLoader(ember.arange(4))._dataset_kind == _DatasetKind.Map

    class Stream(ember.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(5))

    assert ember.utils.data.DataLoader(Stream())._dataset_kind == _DatasetKind.Iterable
    data = [[1, 2], [3, 4], [5, 6]]
    for lib, kind in ((ember, _DatasetKind), (torch, TorchKind)):
        mapped = kind.create_fetcher(kind.Map, data, True, list, False)
        streamed = kind.create_fetcher(kind.Iterable, iter(data), True, list, True)
        assert mapped.fetch([2, 0]) == [[5, 6], [1, 2]]
        assert streamed.fetch([None, None]) == [[1, 2], [3, 4]]
        with pytest.raises(StopIteration):   # one item left, drop_last: no short batch
            streamed.fetch([None, None])
