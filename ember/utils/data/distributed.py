"""DistributedSampler: each rank reads its own share of a dataset, in the same order PyTorch's sampler gives."""
import math

import numpy
from typing import TypeVar

from .sampler import Sampler

_T_co = TypeVar("_T_co", covariant=True)

__all__ = ["DistributedSampler"]


def _torch_randperm(n, seed):
    """``torch.randperm(n, generator=torch.Generator().manual_seed(seed))``: torch's CPU Fisher-Yates shuffle driven
    by a 32-bit-seeded MT19937, whose raw outputs NumPy's legacy seeding reproduces."""
    raw = numpy.random.RandomState(seed & 0xFFFFFFFF)._bit_generator.random_raw(max(n - 1, 0))
    indices = list(range(n))
    for i in range(n - 1):
        j = i + int(raw[i]) % (n - i)
        indices[i], indices[j] = indices[j], indices[i]
    return indices


class DistributedSampler(Sampler[_T_co]):
    """Indices of ``dataset`` for rank ``rank`` of ``num_replicas``: shuffled per epoch by ``seed + epoch`` (call
    ``set_epoch``), padded by repeating indices so every rank gets the same count, or trimmed with ``drop_last``."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            from ... import distributed as dist
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.epoch, self.drop_last, self.shuffle, self.seed = 0, drop_last, shuffle, seed
        if drop_last and len(dataset) % num_replicas != 0:
            self.num_samples = math.ceil((len(dataset) - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(len(dataset) / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        indices = _torch_randperm(n, self.seed + self.epoch) if self.shuffle else list(range(n))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            else:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Sets the epoch, which with ``seed`` decides the shuffle: call it before each epoch's iterator."""
        self.epoch = epoch
