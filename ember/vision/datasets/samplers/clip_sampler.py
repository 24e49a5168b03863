"""Clip samplers for video datasets, as torchvision's: a DistributedSampler over groups of ``group_size`` samples
(which may wrap another sampler), ``num_clips_per_video`` evenly spaced clips of each video, or at most
``max_clips_per_video`` random clips of each video, shuffled."""
import math

import ember
import ember.distributed as dist
from ember.utils.data import Sampler

from ..video_utils import VideoClips

__all__ = ["DistributedSampler", "UniformClipSampler", "RandomClipSampler"]


class DistributedSampler(Sampler):
    """This replica's share of a dataset (or of another sampler's order), padded by wrapping around to an even split;
    groups of ``group_size`` consecutive indices stay together, shuffled by epoch when ``shuffle``."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=False, group_size=1):
        if num_replicas is None:
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            num_replicas = dist.get_world_size()
        if rank is None:
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            rank = dist.get_rank()
        if len(dataset) % group_size != 0:
            raise ValueError(f"dataset length must be a multiplier of group size dataset length: {len(dataset)}, "
                             f"group size: {group_size}")
        self.dataset = dataset
        self.group_size = group_size
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.num_group_samples = int(math.ceil(len(dataset) // group_size * 1.0 / self.num_replicas))
        self.num_samples = self.num_group_samples * group_size
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle

    def __iter__(self):
        g = ember.Generator()
        g.manual_seed(self.epoch)
        if self.shuffle:
            indices = ember.randperm(len(self.dataset), generator=g).tolist()
        else:
            indices = list(range(len(self.dataset)))
        indices += indices[:self.total_size - len(indices)]
        assert len(indices) == self.total_size
        total_group_size = self.total_size // self.group_size
        groups = ember.tensor(indices, dtype=ember.int64).reshape(total_group_size, self.group_size)
        indices = groups[self.rank:total_group_size:self.num_replicas, :].reshape(-1).tolist()
        assert len(indices) == self.num_samples
        if isinstance(self.dataset, Sampler):
            orig_indices = list(iter(self.dataset))
            indices = [orig_indices[i] for i in indices]
        return iter(indices)

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Seeds the next shuffle."""
        self.epoch = epoch


def _check_clips(video_clips):
    if not isinstance(video_clips, VideoClips):
        raise TypeError(f"Expected video_clips to be an instance of VideoClips, got {type(video_clips)}")


class UniformClipSampler(Sampler):
    """``num_clips_per_video`` evenly spaced clips of each video with clips (repeating clips of short videos)."""

    def __init__(self, video_clips, num_clips_per_video):
        _check_clips(video_clips)
        self.video_clips = video_clips
        self.num_clips_per_video = num_clips_per_video

    def __iter__(self):
        idxs, s = [], 0
        for c in self.video_clips.clips:
            length = len(c)
            if length == 0:   # a video that gave no clips
                continue
            idxs.append(ember.linspace(s, s + length - 1, steps=self.num_clips_per_video).floor().to(ember.int64))
            s += length
        return iter(ember.cat(idxs).tolist())

    def __len__(self):
        return sum(self.num_clips_per_video for c in self.video_clips.clips if len(c) > 0)


class RandomClipSampler(Sampler):
    """At most ``max_clips_per_video`` random clips of each video, all shuffled together."""

    def __init__(self, video_clips, max_clips_per_video):
        _check_clips(video_clips)
        self.video_clips = video_clips
        self.max_clips_per_video = max_clips_per_video

    def __iter__(self):
        idxs, s = [], 0
        for c in self.video_clips.clips:
            length = len(c)
            idxs.append(ember.randperm(length)[:min(length, self.max_clips_per_video)] + s)
            s += length
        idxs = ember.cat(idxs)
        return iter(idxs[ember.randperm(len(idxs))].tolist())

    def __len__(self):
        return sum(min(len(c), self.max_clips_per_video) for c in self.video_clips.clips)
