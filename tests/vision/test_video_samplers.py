"""torchvision's clip samplers (datasets.samplers) against torchvision 0.28's own, on VideoClips built from a given
scan (no decoding, so no PyAV needed) and under the same seeds (ember's generator draws torch's sequence)."""
import importlib

import pytest

import ember
from ember.vision.datasets.samplers import DistributedSampler, RandomClipSampler, UniformClipSampler
from ember.vision.datasets.video_utils import VideoClips
from tests.vision import tv_oracle

torch = pytest.importorskip("torch")

FRAMES = [12, 3, 30, 7, 0, 18]   # a video too short for a clip, and one that gave no frames
SHORT_VIDEO = "There aren't enough frames in the current video"
pytestmark = pytest.mark.filterwarnings(f"ignore:{SHORT_VIDEO}:UserWarning")


def _torchvision():
    """torchvision, with its datasets.samplers loaded (the package does not import it)."""
    tv = tv_oracle.load()
    importlib.import_module("torchvision.datasets.samplers")
    return tv


def _pair(num_frames=4, step=2):
    tv = _torchvision()
    paths = [f"video{i}.avi" for i in range(len(FRAMES))]
    fps = [10.0, 25.0, 30.0, 10.0, None, 12.0]
    ours = VideoClips(paths, num_frames, step, _precomputed_metadata={
        "video_paths": paths, "video_fps": fps, "video_pts": [ember.arange(n) for n in FRAMES]})
    theirs = tv.datasets.video_utils.VideoClips(paths, num_frames, step, _precomputed_metadata={
        "video_paths": paths, "video_fps": fps, "video_pts": [torch.arange(n) for n in FRAMES]})
    return tv, ours, theirs


@pytest.mark.parametrize("per_video", [1, 3, 8])
def test_uniform_clip_sampler_as_torchvision(per_video):
    tv, ours, theirs = _pair()
    sampler, reference = UniformClipSampler(ours, per_video), tv.datasets.samplers.UniformClipSampler(theirs, per_video)
    assert list(sampler) == list(reference) and len(sampler) == len(reference) == 4 * per_video


@pytest.mark.parametrize("most", [1, 2, 100])
def test_random_clip_sampler_as_torchvision(most):
    tv, ours, theirs = _pair(3, 1)
    ember.manual_seed(most)
    torch.manual_seed(most)
    sampler, reference = RandomClipSampler(ours, most), tv.datasets.samplers.RandomClipSampler(theirs, most)
    drawn = list(sampler)
    assert drawn == list(reference) and len(sampler) == len(reference) == len(drawn)
    assert len(set(drawn)) == len(drawn) and all(0 <= i < len(ours) for i in drawn)


@pytest.mark.parametrize("replicas,group,shuffle", [(4, 1, False), (4, 2, False), (3, 2, True), (2, 1, True)])
def test_distributed_sampler_shards_as_torchvision(replicas, group, shuffle):
    tv = _torchvision()
    dataset = list(range(14))
    for epoch in (0, 3):
        for rank in range(replicas):
            ours = DistributedSampler(dataset, replicas, rank, shuffle, group)
            theirs = tv.datasets.samplers.DistributedSampler(dataset, replicas, rank, shuffle, group)
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_distributed_sampler_over_a_clip_sampler_and_its_errors():
    tv, ours, theirs = _pair()
    inner, tv_inner = UniformClipSampler(ours, 2), tv.datasets.samplers.UniformClipSampler(theirs, 2)
    for rank in range(3):
        assert list(DistributedSampler(inner, 3, rank, group_size=2)) == \
            list(tv.datasets.samplers.DistributedSampler(tv_inner, 3, rank, group_size=2))
    with pytest.raises(ValueError, match="dataset length must be a multiplier of group size"):
        DistributedSampler(list(range(5)), 2, 0, group_size=2)
    with pytest.raises(TypeError, match="Expected video_clips to be an instance of VideoClips"):
        UniformClipSampler(list(range(3)), 1)
    with pytest.raises(TypeError, match="Expected video_clips to be an instance of VideoClips"):
        RandomClipSampler(theirs, 1)
