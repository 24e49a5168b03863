"""``torchvision.datasets.samplers``: samplers over the clips of a VideoClips (uniform or random per video) and a
DistributedSampler that keeps groups of consecutive samples on one replica."""
from .clip_sampler import DistributedSampler, RandomClipSampler, UniformClipSampler

__all__ = ("DistributedSampler", "UniformClipSampler", "RandomClipSampler")
