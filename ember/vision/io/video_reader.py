"""``torchvision.io.VideoReader`` on PyAV: frame-by-frame decoding of one stream of a media file, with seeking and
per-stream metadata, as torchvision's PyAV backend (torchvision 0.21)."""
import io
import warnings

import ember

from .video import _av

__all__ = ["VideoReader"]


def _stream_spec(stream):
    """``"video"`` or ``"audio:1"`` as PyAV's decode selector ({type: index})."""
    kind, _, index = stream.partition(":")
    return {kind: int(index) if index else 0}


class VideoReader:
    """Iterates over the frames of one stream (``"video"``, ``"audio"``, ``"video:1"``...) of a file path or bytes:
    each is ``{"data": tensor, "pts": seconds}``, video frames (C, H, W) uint8, audio frames (samples, channels).
    ``num_threads`` is accepted for torchvision's signature; PyAV chooses its own decoding threads."""

    def __init__(self, src, stream="video", num_threads=0):
        if isinstance(src, str):
            if not src:
                raise ValueError("src cannot be empty")
        elif isinstance(src, bytes):
            src = io.BytesIO(src)
        elif ember.is_tensor(src):
            raise RuntimeError("VideoReader cannot be initialized from Tensor object when using cuda or pyav backend.")
        else:
            raise ValueError(f"src must be either string, Tensor or bytes object. Got {type(src)}")
        self.backend = "pyav"
        self.container = _av().open(src, metadata_errors="ignore")
        self.pyav_stream = _stream_spec(stream)
        self._c = self.container.decode(**self.pyav_stream)

    def __next__(self):
        """The next frame of the current stream as ``{"data": tensor, "pts": float seconds}``."""
        av = _av()
        try:
            frame = next(self._c)
        except av.error.EOFError:
            raise StopIteration from None
        pts = float(frame.pts * frame.time_base)
        if "video" in self.pyav_stream:
            data = ember.from_numpy(frame.to_rgb().to_ndarray()).permute(2, 0, 1)
        else:
            data = ember.from_numpy(frame.to_ndarray()).permute(1, 0)
        if data.numel() == 0:
            raise StopIteration
        return {"data": data, "pts": pts}

    def __iter__(self):
        return self

    def seek(self, time_s, keyframes_only=False):
        """Moves to the key frame at or before ``time_s`` seconds of the current stream (PyAV seeks to key frames)."""
        stream = self.container.streams.get(**self.pyav_stream)[0]
        offset = int(round(max(time_s, 0) / stream.time_base))
        if not keyframes_only:
            warnings.warn("Accurate seek is not implemented for pyav backend")
        self.container.seek(offset, backward=True, any_frame=False, stream=stream)
        self._c = self.container.decode(**self.pyav_stream)
        return self

    def get_metadata(self):
        """Per stream type, the lists of each stream's ``duration`` (seconds) and ``fps`` (video) or ``framerate``."""
        metadata = {}
        for stream in self.container.streams:
            rate_name = "fps" if stream.type == "video" else "framerate"
            entry = metadata.setdefault(stream.type, {rate_name: [], "duration": []})
            rate = getattr(stream, "average_rate", None) or stream.sample_rate
            entry["duration"].append(float(stream.duration * stream.time_base))
            entry[rate_name].append(float(rate))
        return metadata

    def set_current_stream(self, stream):
        """Switches decoding to ``stream`` (``"video"``, ``"audio:0"``, ...) from the current position; True."""
        self.pyav_stream = _stream_spec(stream)
        self._c = self.container.decode(**self.pyav_stream)
        return True
