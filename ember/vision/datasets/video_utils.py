"""``torchvision.datasets.video_utils``: ``VideoClips``, the index of every clip of ``clip_length_in_frames`` frames
over a list of video files, optionally resampled to a frame rate, as torchvision 0.28 builds it (frames counted and
decoded by index, audio as float samples played during the clip); decoding is PyAV's, imported on first use."""
import bisect
import math
import warnings

import numpy

import ember
from ember.utils.data import DataLoader

from ..io.video import _av

__all__ = ["VideoClips", "unfold"]


def unfold(tensor, size, step, dilation=1):
    """Every window of ``size`` elements of a 1-D tensor, ``step`` apart, elements ``dilation`` apart in a window."""
    if tensor.dim() != 1:
        raise ValueError(f"tensor should have 1 dimension instead of {tensor.dim()}")
    o_stride = tensor.stride(0)
    new_stride = (step * o_stride, dilation * o_stride)
    new_size = ((tensor.numel() - (dilation * (size - 1) + 1)) // step + 1, size)
    if new_size[0] < 1:
        new_size = (0, size)
    return ember.as_strided(tensor, new_size, new_stride)


def _video_stream(container, path):
    if not container.streams.video:
        raise RuntimeError(f"No valid stream found in input file {path}: it has no video stream")
    return container.streams.video[0]


def _frame_index(container, stream):
    """The video packets' pts in presentation order, the average frame rate of an exact scan (TorchCodec's: frames
    over the span from the first pts to the end of the last frame, else the header's rate) and the key packets'
    (pts, dts)."""
    pts, keys, end = [], [], None
    for packet in container.demux(stream):
        if packet.pts is None and packet.dts is None or packet.is_discard:   # PyAV's closing flush packet
            continue
        start = packet.pts if packet.pts is not None else packet.dts
        pts.append(start)
        end = start + packet.duration if end is None else max(end, start + packet.duration)
        if packet.is_keyframe:
            keys.append((start, packet.dts if packet.dts is not None else start))
    pts.sort()
    if pts and end != pts[0]:
        return pts, len(pts) / float((end - pts[0]) * stream.time_base), sorted(keys)
    return pts, float(stream.base_rate) if stream.base_rate else None, sorted(keys)


def _frame_count_and_fps(path):
    av = _av()
    with av.open(path, metadata_errors="ignore") as container:
        pts, fps, _ = _frame_index(container, _video_stream(container, path))
    return len(pts), fps


class _VideoTimestampsDataset:
    """The frame indices and frame rate of each video, as a dataset so a DataLoader's workers can scan in parallel."""

    def __init__(self, video_paths):
        self.video_paths = video_paths

    def __len__(self):
        return len(self.video_paths)

    def __getitem__(self, idx):
        num_frames, fps = _frame_count_and_fps(self.video_paths[idx])
        return list(range(num_frames)), fps


def _collate_fn(x):
    """Keeps a batch as the list of samples."""
    return x


def _decode_frames(path, first, last):
    """Frames ``first`` to ``last`` (indices in presentation order) of a video as an (N, H, W, 3) uint8 array, and
    its frame rate: decoded from the last key frame showing no later than the first, or from the start where
    seeking there lands too late (demuxers seek by dts)."""
    av = _av()
    with av.open(path, metadata_errors="ignore") as container:
        stream = _video_stream(container, path)
        pts, fps, keys = _frame_index(container, stream)
        wanted = pts[first:last + 1]
        key_dts = [dts for key_pts, dts in keys if key_pts <= wanted[0]]
        frames = _decode_from(container, stream, wanted, key_dts[-1] if key_dts else 0)
        if len(frames) < len(wanted):
            frames = _decode_from(container, stream, wanted, 0)
    return numpy.stack([frames[p] for p in wanted]), fps


def _decode_from(container, stream, wanted, timestamp):
    """{pts: RGB array} of the ``wanted`` frames met decoding from the key frame at or before ``timestamp``."""
    container.seek(timestamp, backward=True, any_frame=False, stream=stream)
    frames, wanted_set = {}, set(wanted)
    for frame in container.decode(stream):
        if frame.pts in wanted_set:
            frames[frame.pts] = frame.to_rgb().to_ndarray()
        if frame.pts is not None and frame.pts >= wanted[-1] and len(frames) == len(wanted):
            break
    return frames


def _header_span(container, stream):
    """The seconds a stream's header says it starts and ends at (the end unknown: infinity)."""
    begin = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
    if stream.duration:
        return begin, begin + float(stream.duration * stream.time_base)
    return begin, container.duration / 1e6 if container.duration else math.inf


def _audio_played(path, start, stop):
    """The samples of the first audio stream played from ``start`` to ``stop`` seconds, as float32 (channels, N):
    decoded from the stream's beginning, cut at the sample nearest each bound (TorchCodec's AudioDecoder)."""
    av = _av()
    with av.open(path, metadata_errors="ignore") as container:
        stream = container.streams.audio[0]
        begin, end = _header_span(container, stream)
        if not begin <= start < end:
            raise ValueError(f"Invalid start seconds: {start}. It must be greater than or equal to {begin} and less "
                             f"than or equal to {end}.")
        resampler = av.AudioResampler(format="fltp")
        chunks, first_pts = [], None
        for frame in container.decode(stream):
            begin = float(frame.pts * stream.time_base)
            if begin >= stop:
                break
            if begin + frame.samples / frame.sample_rate <= start:
                continue
            first_pts = begin if first_pts is None else first_pts
            chunks += [converted.to_ndarray() for converted in resampler.resample(frame)]
        rate = stream.rate
    samples = numpy.concatenate(chunks, 1).astype(numpy.float32)
    offset_beginning = round((start - first_pts) * rate) if first_pts < start else 0
    last_pts = first_pts + samples.shape[1] / rate
    offset_end = samples.shape[1] - round((last_pts - stop) * rate) if stop < last_pts else samples.shape[1]
    return samples[:, offset_beginning:offset_end]


class VideoClips:
    """Every clip of ``clip_length_in_frames`` consecutive frames, ``frames_between_clips`` apart, of a list of
    videos, optionally resampled to ``frame_rate``; ``get_clip(i)`` decodes clip i as (video, audio, info,
    video_idx). Scanning the files is the slow part: ``metadata`` can be saved and passed back as
    ``_precomputed_metadata``."""

    def __init__(self, video_paths, clip_length_in_frames=16, frames_between_clips=1, frame_rate=None,
                 _precomputed_metadata=None, num_workers=0, _video_width=0, _video_height=0,
                 _video_min_dimension=0, _video_max_dimension=0, _audio_samples=0, _audio_channels=0,
                 output_format="THWC"):
        self.video_paths = video_paths
        self.num_workers = num_workers
        # kept for torchvision's signature: options of its removed video_reader backend, unused by PyAV
        self._video_width = _video_width
        self._video_height = _video_height
        self._video_min_dimension = _video_min_dimension
        self._video_max_dimension = _video_max_dimension
        self._audio_samples = _audio_samples
        self._audio_channels = _audio_channels
        self.output_format = output_format.upper()
        if self.output_format not in ("THWC", "TCHW"):
            raise ValueError(f"output_format should be either 'THWC' or 'TCHW', got {output_format}.")
        if _precomputed_metadata is None:
            self._compute_frame_pts()
        else:
            self._init_from_metadata(_precomputed_metadata)
        self.compute_clips(clip_length_in_frames, frames_between_clips, frame_rate)

    def _compute_frame_pts(self):
        self.video_pts = []   # per video, a tensor of its frame indices
        self.video_fps = []
        loader = DataLoader(_VideoTimestampsDataset(self.video_paths), batch_size=16, num_workers=self.num_workers,
                            collate_fn=_collate_fn)
        for batch in loader:
            for pts, fps in batch:
                self.video_pts.append(ember.as_tensor(pts, dtype=ember.long))   # long even when empty
                self.video_fps.append(fps)

    def _init_from_metadata(self, metadata):
        self.video_paths = metadata["video_paths"]
        assert len(self.video_paths) == len(metadata["video_pts"])
        self.video_pts = metadata["video_pts"]
        assert len(self.video_paths) == len(metadata["video_fps"])
        self.video_fps = metadata["video_fps"]

    @property
    def metadata(self):
        """The scanned files: ``video_paths``, ``video_pts`` (frame indices) and ``video_fps``."""
        return {"video_paths": self.video_paths, "video_pts": self.video_pts, "video_fps": self.video_fps}

    def subset(self, indices):
        """A VideoClips over the videos at ``indices``, reusing their scan."""
        metadata = {key: [values[i] for i in indices] for key, values in self.metadata.items()}
        return type(self)(metadata["video_paths"], clip_length_in_frames=self.num_frames,
                          frames_between_clips=self.step, frame_rate=self.frame_rate,
                          _precomputed_metadata=metadata, num_workers=self.num_workers,
                          _video_width=self._video_width, _video_height=self._video_height,
                          _video_min_dimension=self._video_min_dimension,
                          _video_max_dimension=self._video_max_dimension, _audio_samples=self._audio_samples,
                          _audio_channels=self._audio_channels, output_format=self.output_format)

    @staticmethod
    def compute_clips_for_video(video_pts, num_frames, step, fps, frame_rate=None):
        """The clips (rows of frame indices) of one video and, per clip, the indices resampling it to
        ``frame_rate`` (a slice when the rates divide evenly)."""
        if fps is None:   # no video stream: no frames either, so the rate is moot
            fps = 1
        if frame_rate is None:
            frame_rate = fps
        total_frames = len(video_pts) * frame_rate / fps
        _idxs = VideoClips._resample_video_idx(int(math.floor(total_frames)), fps, frame_rate)
        video_pts = video_pts[_idxs]
        clips = unfold(video_pts, num_frames, step)
        if not clips.numel():
            warnings.warn("There aren't enough frames in the current video to get a clip for the given clip length "
                          "and frames between clips. The video (and potentially others) will be skipped.")
        idxs = [_idxs] * len(clips) if isinstance(_idxs, slice) else unfold(_idxs, num_frames, step)
        return clips, idxs

    def compute_clips(self, num_frames, step, frame_rate=None):
        """Recomputes every clip for ``num_frames`` frames a clip, ``step`` apart, at ``frame_rate``; clips are
        always whole, so a video's last frames may be left out."""
        self.num_frames = num_frames
        self.step = step
        self.frame_rate = frame_rate
        self.clips = []
        self.resampling_idxs = []
        for video_pts, fps in zip(self.video_pts, self.video_fps):
            clips, idxs = self.compute_clips_for_video(video_pts, num_frames, step, fps, frame_rate)
            self.clips.append(clips)
            self.resampling_idxs.append(idxs)
        self.cumulative_sizes = numpy.cumsum([len(v) for v in self.clips]).tolist()

    def __len__(self):
        return self.num_clips()

    def num_videos(self):
        """The number of videos."""
        return len(self.video_paths)

    def num_clips(self):
        """The number of clips over all videos."""
        return self.cumulative_sizes[-1]

    def get_clip_location(self, idx):
        """(video index, clip index in that video) of clip ``idx``."""
        video_idx = bisect.bisect_right(self.cumulative_sizes, idx)
        clip_idx = idx if video_idx == 0 else idx - self.cumulative_sizes[video_idx - 1]
        return video_idx, clip_idx

    @staticmethod
    def _resample_video_idx(num_frames, original_fps, new_fps):
        step = original_fps / new_fps
        if step.is_integer():   # a slice avoids advanced indexing
            return slice(None, None, int(step))
        return (ember.arange(num_frames, dtype=ember.float32) * step).floor().to(ember.int64)

    def get_clip(self, idx):
        """Clip ``idx``: video (T, H, W, C) or (T, C, H, W) uint8, audio (channels, N) float32 (empty (1, 0)
        without audio), info ``{"video_fps": ...}`` and the index of its video."""
        if idx >= self.num_clips():
            raise IndexError(f"Index {idx} out of range ({self.num_clips()} number of clips)")
        video_idx, clip_idx = self.get_clip_location(idx)
        video_path = self.video_paths[video_idx]
        clip_pts = self.clips[video_idx][clip_idx]
        start_idx, end_idx = int(clip_pts[0].item()), int(clip_pts[-1].item())
        frames, fps = _decode_frames(video_path, start_idx, end_idx)
        video = ember.from_numpy(frames if self.output_format == "THWC" else frames.transpose(0, 3, 1, 2).copy())
        try:
            audio = ember.from_numpy(_audio_played(video_path, start_idx / fps, (end_idx + 1) / fps))
        except Exception:   # no audio stream, or none decodable: torchvision gives an empty clip as well
            audio = ember.empty((1, 0), dtype=ember.float32)
        info = {"video_fps": fps}
        if self.frame_rate is not None:
            resampling_idx = self.resampling_idxs[video_idx][clip_idx]
            if ember.is_tensor(resampling_idx):
                resampling_idx = resampling_idx - resampling_idx[0]
            video = video[resampling_idx]
            info["video_fps"] = self.frame_rate
        assert len(video) == self.num_frames, f"{video.shape} x {self.num_frames}"
        return video, audio, info, video_idx

    def __getstate__(self):
        video_pts_sizes = [len(v) for v in self.video_pts]
        video_pts = [x.to(ember.int64) for x in self.video_pts]   # an empty scan may have made float tensors
        if video_pts:
            video_pts = ember.cat(video_pts).numpy()
        state = self.__dict__.copy()
        state["video_pts_sizes"] = video_pts_sizes
        state["video_pts"] = video_pts
        del state["clips"], state["resampling_idxs"], state["cumulative_sizes"]   # recomputed on load
        state["_version"] = 2
        return state

    def __setstate__(self, state):
        if "_version" not in state:
            self.__dict__ = state
            return
        video_pts = ember.as_tensor(state["video_pts"], dtype=ember.int64)
        state["video_pts"] = ember.split(video_pts, state.pop("video_pts_sizes"), dim=0)
        self.__dict__ = state
        self.compute_clips(self.num_frames, self.step, self.frame_rate)
