"""Data loading in PyTorch's shape: datasets, samplers, collation and the DataLoader with worker processes."""
from . import _utils  # noqa: F401 (torch.utils.data._utils is an attribute, as PyTorch's)
from .collate import default_collate, default_convert
from .dataloader import DataLoader, _DatasetKind  # noqa: F401 (torch.utils.data._DatasetKind, as PyTorch's)
from .distributed import DistributedSampler
from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset, TensorDataset,
                      random_split)
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                      WeightedRandomSampler)
from .worker import WorkerInfo, get_worker_info

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset",
           "RandomSampler", "Sampler", "SequentialSampler", "StackDataset", "Subset", "SubsetRandomSampler",
           "TensorDataset", "WeightedRandomSampler", "WorkerInfo", "default_collate", "default_convert",
           "get_worker_info", "random_split", "DistributedSampler"]
