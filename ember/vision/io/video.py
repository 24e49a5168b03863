"""``torchvision.io.video`` on PyAV (FFmpeg's libraries): ``read_video``, ``read_video_timestamps`` and
``write_video`` as torchvision's PyAV backend reads and writes (torchvision 0.21, the last release that shipped it in
the open; 0.28 leaves video to TorchCodec). PyAV is imported on first use."""
import math
import re
import warnings

import numpy

import ember

__all__ = ["read_video", "read_video_timestamps", "write_video"]

_AUDIO_DTYPES = {"dbl": "<f8", "dblp": "<f8", "flt": "<f4", "fltp": "<f4", "s16": "<i2", "s16p": "<i2",
                 "s32": "<i4", "s32p": "<i4", "u8": "u1", "u8p": "u1"}
_BUFFERED_FRAMES = 5   # frames decoded past the end: packed B-frames can come out of pts order


def _av():
    """The ``av`` module (PyAV), with FFmpeg's log kept to errors."""
    try:
        import av
    except ImportError as error:
        raise ImportError("PyAV is not installed, and is necessary for the video operations in ember.vision: "
                          "pip install av (or pip install ember[video])") from error
    av.logging.set_level(av.logging.ERROR)
    return av


def _ffmpeg_error(av):
    return getattr(av, "FFmpegError", None) or av.AVError   # PyAV < 14 calls it AVError


def _tensor(array):
    return ember.from_numpy(numpy.ascontiguousarray(array))


def write_video(filename, video_array, fps, video_codec="libx264", options=None, audio_array=None, audio_fps=None,
                audio_codec=None, audio_options=None):
    """Writes a (T, H, W, C) uint8 video (and optionally a (C, N) audio array) to ``filename`` with PyAV."""
    av = _av()
    video_array = ember.as_tensor(video_array, dtype=ember.uint8).detach().cpu().numpy()
    if isinstance(fps, float):
        fps = round(fps)   # PyAV takes whole or rational frame rates only
    with av.open(filename, mode="w") as container:
        stream = container.add_stream(video_codec, rate=fps)
        stream.width = video_array.shape[2]
        stream.height = video_array.shape[1]
        stream.pix_fmt = "yuv420p" if video_codec != "libx264rgb" else "rgb24"
        stream.options = options or {}
        if audio_array is not None:
            audio_stream = container.add_stream(audio_codec, rate=audio_fps)
            audio_stream.options = audio_options or {}
            sample_format = container.streams.audio[0].format.name
            audio = ember.as_tensor(audio_array).detach().cpu().numpy().astype(_AUDIO_DTYPES[sample_format])
            frame = av.AudioFrame.from_ndarray(audio, format=sample_format,
                                               layout="stereo" if audio.shape[0] > 1 else "mono")
            frame.sample_rate = audio_fps
            for packet in [*audio_stream.encode(frame), *audio_stream.encode()]:
                container.mux(packet)
        for image in video_array:
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            try:
                frame.pict_type = "NONE"   # let the encoder choose each frame's type
            except TypeError:
                from av.video.frame import PictureType
                frame.pict_type = PictureType.NONE
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _should_buffer(stream):
    """Whether to decode a few frames past the end: always, except for DivX video without packed B-frames."""
    extradata = stream.codec_context.extradata if stream.type == "video" else None
    if not extradata or b"DivX" not in extradata:
        return True
    tail = extradata[extradata.find(b"DivX"):]
    found = re.search(rb"DivX(\d+)Build(\d+)(\w)", tail) or re.search(rb"DivX(\d+)b(\d+)(\w)", tail)
    return found is None or found.group(3) == b"p"


def _read_from_stream(container, start_offset, end_offset, pts_unit, stream, stream_name):
    """The frames of ``stream`` from ``start_offset`` to ``end_offset`` (in its pts, or seconds) sorted by pts, with
    the last frame before the start as well when none starts exactly there."""
    av = _av()
    if pts_unit == "sec":
        start_offset = int(math.floor(start_offset * (1 / stream.time_base)))
        if end_offset != float("inf"):
            end_offset = int(math.ceil(end_offset * (1 / stream.time_base)))
    else:
        warnings.warn("The pts_unit 'pts' gives wrong results. Please use pts_unit 'sec'.")
    should_buffer = _should_buffer(stream)
    seek_offset = max(start_offset - 1, 0)   # some files seek past the requested pts
    if should_buffer:
        seek_offset = max(seek_offset - _BUFFERED_FRAMES, 0)
    try:
        container.seek(seek_offset, any_frame=False, backward=True, stream=stream)
    except _ffmpeg_error(av):
        return []
    frames, buffered = {}, 0
    try:
        for frame in container.decode(**stream_name):
            frames[frame.pts] = frame
            if frame.pts >= end_offset:
                if should_buffer and buffered < _BUFFERED_FRAMES:
                    buffered += 1
                    continue
                break
    except _ffmpeg_error(av):
        pass
    result = [frames[pts] for pts in sorted(frames) if start_offset <= pts <= end_offset]
    if frames and start_offset > 0 and start_offset not in frames:
        preceding = [pts for pts in frames if pts < start_offset]
        if preceding:
            result.insert(0, frames[max(preceding)])
    return result


def _align_audio_frames(aframes, audio_frames, ref_start, ref_end):
    """The samples of ``aframes`` (C, N) between the pts ``ref_start`` and ``ref_end``, spreading pts evenly over
    the samples of the decoded frames."""
    start, end = audio_frames[0].pts, audio_frames[-1].pts
    total = aframes.shape[1]
    step_per_aframe = (end - start + 1) / total
    s_idx = int((ref_start - start) / step_per_aframe) if start < ref_start else 0
    e_idx = int((ref_end - end) / step_per_aframe) if end > ref_end else total
    return aframes[:, s_idx:e_idx]


def read_video(filename, start_pts=0, end_pts=None, pts_unit="pts", output_format="THWC"):
    """Reads the video frames (T, H, W, C) uint8 (or TCHW), the audio (K, L) and an info dict (``video_fps``,
    ``audio_fps``) of a file between ``start_pts`` and ``end_pts``, in ``pts_unit`` "pts" or "sec"."""
    output_format = output_format.upper()
    if output_format not in ("THWC", "TCHW"):
        raise ValueError(f"output_format should be either 'THWC' or 'TCHW', got {output_format}.")
    av = _av()
    if end_pts is None:
        end_pts = float("inf")
    if end_pts < start_pts:
        raise ValueError(f"end_pts should be larger than start_pts, got start_pts={start_pts} and end_pts={end_pts}")
    info, video_frames, audio_frames, audio_timebase = {}, [], [], None
    try:
        with av.open(filename, metadata_errors="ignore") as container:
            if container.streams.audio:
                audio_timebase = container.streams.audio[0].time_base
            if container.streams.video:
                video = container.streams.video[0]
                video_frames = _read_from_stream(container, start_pts, end_pts, pts_unit, video, {"video": 0})
                if video.average_rate is not None:   # None in some corrupt files
                    info["video_fps"] = float(video.average_rate)
            if container.streams.audio:
                audio = container.streams.audio[0]
                audio_frames = _read_from_stream(container, start_pts, end_pts, pts_unit, audio, {"audio": 0})
                info["audio_fps"] = audio.rate
    except _ffmpeg_error(av):   # unreadable files read as empty, as torchvision's
        pass
    if video_frames:
        vframes = _tensor(numpy.stack([frame.to_rgb().to_ndarray() for frame in video_frames]))
    else:
        vframes = ember.empty((0, 1, 1, 3), dtype=ember.uint8)
    if audio_frames:
        aframes = _tensor(numpy.concatenate([frame.to_ndarray() for frame in audio_frames], 1))
        if pts_unit == "sec":
            start_pts = int(math.floor(start_pts * (1 / audio_timebase)))
            if end_pts != float("inf"):
                end_pts = int(math.ceil(end_pts * (1 / audio_timebase)))
        aframes = _align_audio_frames(aframes, audio_frames, start_pts, end_pts)
    else:
        aframes = ember.empty((1, 0), dtype=ember.float32)
    if output_format == "TCHW":
        vframes = vframes.permute(0, 3, 1, 2)
    return vframes, aframes, info


def _decode_video_timestamps(container):
    """The pts of the first video stream's frames: from the packets where FFmpeg wrote the file, else decoded."""
    extradata = container.streams[0].codec_context.extradata
    if extradata is not None and b"Lavc" in extradata:
        return [packet.pts for packet in container.demux(video=0) if packet.pts is not None]
    return [frame.pts for frame in container.decode(video=0) if frame.pts is not None]


def read_video_timestamps(filename, pts_unit="pts"):
    """The sorted presentation timestamps of a file's video frames (ints, or Fractions of seconds for
    ``pts_unit="sec"``) and its frame rate (None without a video stream)."""
    av = _av()
    video_fps, pts = None, []
    try:
        with av.open(filename, metadata_errors="ignore") as container:
            if container.streams.video:
                video = container.streams.video[0]
                time_base = video.time_base
                try:
                    pts = _decode_video_timestamps(container)
                except _ffmpeg_error(av):
                    warnings.warn(f"Failed decoding frames for file {filename}")
                video_fps = float(video.average_rate)
    except _ffmpeg_error(av) as error:
        warnings.warn(f"Failed to open container for {filename}; Caught error: {error}", RuntimeWarning)
    pts.sort()
    if pts_unit == "sec":
        pts = [x * time_base for x in pts]
    return pts, video_fps
