"""Fetching one batch (or one sample, without auto-collation) from a dataset, the same way in and out of workers."""
import itertools

from .dataset import _fetch_many


class _MapDatasetFetcher:
    """Reads the samples at the given indices of a map-style dataset and collates them."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn

    def fetch(self, possibly_batched_index):
        if self.auto_collation:
            return self.collate_fn(_fetch_many(self.dataset, possibly_batched_index))
        return self.collate_fn(self.dataset[possibly_batched_index])


class _IterableDatasetFetcher:
    """Reads the next samples of an iterable dataset; raises StopIteration when it has none (or, with
    ``drop_last``, too few) left."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last
        self.dataset_iter = iter(dataset)

    def fetch(self, possibly_batched_index):
        if not self.auto_collation:
            return self.collate_fn(next(self.dataset_iter))
        data = list(itertools.islice(self.dataset_iter, len(possibly_batched_index)))
        if not data or (self.drop_last and len(data) < len(possibly_batched_index)):
            raise StopIteration
        return self.collate_fn(data)


class _DatasetKind:
    """A dataset's kind as the loader and its iterators record it (PyTorch's private contract, which libraries that
    drive the iterators with a loader of their own, like fastai, rely on)."""

    Map = 0
    Iterable = 1

    @staticmethod
    def create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last):
        """The fetcher for a dataset of ``kind``."""
        fetcher_class = _IterableDatasetFetcher if kind == _DatasetKind.Iterable else _MapDatasetFetcher
        return fetcher_class(dataset, auto_collation, collate_fn, drop_last)
