"""Temporal transforms for videos."""
import ember

from . import functional as F
from ._transform import Transform

__all__ = ["UniformTemporalSubsample"]


class UniformTemporalSubsample(Transform):
    """Keeps ``num_samples`` frames evenly spaced over each video's time dimension."""

    _transformed_types = (ember.Tensor,)

    def __init__(self, num_samples):
        super().__init__()
        self.num_samples = num_samples

    def transform(self, inpt, params):
        return self._call_kernel(F.uniform_temporal_subsample, inpt, self.num_samples)
