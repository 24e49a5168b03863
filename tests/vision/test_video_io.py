"""ember.vision.io's video functions (torchvision's PyAV backend): videos written here, read back and compared with
PyAV decoding the same files directly; a lossless codec (libx264rgb at crf 0) gives back the frames written."""
import subprocess
import sys
import warnings
from fractions import Fraction

import numpy
import pytest

import ember
from ember.vision import io as vio

av = pytest.importorskip("av")

PTS_WARNING = "The pts_unit 'pts' gives wrong results"


def _frames(n, seed=0, h=16, w=24):
    return numpy.random.default_rng(seed).integers(0, 256, (n, h, w, 3), dtype=numpy.uint8)


@pytest.fixture(scope="module")
def lossless(tmp_path_factory):
    """A 12-frame 10 fps RGB video (libx264rgb, crf 0) with 1.2 s of 8 kHz PCM audio, and the frames written."""
    path = str(tmp_path_factory.mktemp("video") / "lossless.mkv")
    frames = _frames(12)
    audio = numpy.random.default_rng(1).integers(-20000, 20000, (1, 9600)).astype(numpy.int16)
    vio.write_video(path, ember.from_numpy(frames), 10, video_codec="libx264rgb", options={"crf": "0"},
                    audio_array=ember.from_numpy(audio), audio_fps=8000, audio_codec="pcm_s16le")
    return path, frames


@pytest.fixture(scope="module")
def lossy(tmp_path_factory):
    """A 15-frame 12 fps H.264 mp4 with stereo AAC audio: frames and audio only as PyAV decodes them."""
    path = str(tmp_path_factory.mktemp("video") / "lossy.mp4")
    audio = numpy.random.default_rng(2).uniform(-0.5, 0.5, (2, 20000)).astype(numpy.float32)
    vio.write_video(path, _frames(15, 3), 12.0, audio_array=audio, audio_fps=16000, audio_codec="aac")
    return path


def _pyav(path, kind):
    """(pts, arrays) of every frame of the first ``kind`` stream, decoded by PyAV directly, in pts order."""
    with av.open(path) as container:
        frames = sorted(container.decode(**{kind: 0}), key=lambda frame: frame.pts)
        arrays = [frame.to_rgb().to_ndarray() if kind == "video" else frame.to_ndarray() for frame in frames]
        return [frame.pts for frame in frames], arrays


def _read(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", PTS_WARNING)
        return vio.read_video(*args, **kwargs)


def test_lossless_round_trip_gives_back_the_frames_and_rates(lossless):
    path, frames = lossless
    with pytest.warns(UserWarning, match=PTS_WARNING):
        video, samples, info = vio.read_video(path)
    assert video.dtype == ember.uint8 and video.shape == (12, 16, 24, 3)
    numpy.testing.assert_array_equal(video.numpy(), frames)
    _, chunks = _pyav(path, "audio")   # PCM as the stream stores it: packed 16-bit stereo, mono mixed in
    assert samples.dtype == ember.int16 and samples.shape == (1, 2 * 9600)
    numpy.testing.assert_array_equal(samples.numpy(), numpy.concatenate(chunks, 1))
    assert info == {"video_fps": 10.0, "audio_fps": 8000}
    tchw, _, _ = vio.read_video(path, pts_unit="sec", output_format="tchw")
    numpy.testing.assert_array_equal(tchw.numpy(), frames.transpose(0, 3, 1, 2))


def test_lossy_video_reads_as_pyav_decodes_it(lossy):
    video, audio, info = vio.read_video(lossy, pts_unit="sec")
    _, frames = _pyav(lossy, "video")
    numpy.testing.assert_array_equal(video.numpy(), numpy.stack(frames))
    _, chunks = _pyav(lossy, "audio")
    numpy.testing.assert_array_equal(audio.numpy(), numpy.concatenate(chunks, 1))
    assert audio.dtype == ember.float32 and audio.shape[0] == 2
    with av.open(lossy) as container:
        assert info == {"video_fps": float(container.streams.video[0].average_rate),
                        "audio_fps": container.streams.audio[0].rate}


@pytest.mark.parametrize("first,last", [(0, 3), (2, 5), (4, 4), (3, 11)])
def test_pts_and_seconds_bounds_select_the_frames_between_them(lossless, first, last):
    path, frames = lossless
    pts, _ = _pyav(path, "video")
    with av.open(path) as container:
        time_base = container.streams.video[0].time_base
    by_pts, _, _ = _read(path, pts[first], pts[last])
    by_sec, _, _ = vio.read_video(path, pts[first] * time_base, pts[last] * time_base, pts_unit="sec")
    floats, _, _ = vio.read_video(path, float(pts[first] * time_base), float(pts[last] * time_base), pts_unit="sec")
    for video in (by_pts, by_sec, floats):
        numpy.testing.assert_array_equal(video.numpy(), frames[first:last + 1])


def test_a_start_between_frames_also_gives_the_frame_showing_then(lossless):
    path, frames = lossless
    video, _, _ = vio.read_video(path, 0.25, 0.5, pts_unit="sec")   # frames every 0.1 s: 0.2 is showing at 0.25
    numpy.testing.assert_array_equal(video.numpy(), frames[2:6])
    tail, _, _ = vio.read_video(path, 0.95, pts_unit="sec")
    numpy.testing.assert_array_equal(tail.numpy(), frames[9:])


def test_audio_between_bounds_covers_them(lossy):
    _, full, _ = vio.read_video(lossy, pts_unit="sec")
    _, part, _ = vio.read_video(lossy, 0.3, 0.7, pts_unit="sec")
    assert part.dtype == ember.float32 and part.shape[0] == 2
    assert abs(part.shape[1] - 0.4 * 16000) <= 2 * 1024 and part.shape[1] < full.shape[1]   # within an AAC frame a side


def test_read_video_timestamps_in_pts_and_seconds(lossless, lossy):
    for path in (lossless[0], lossy):
        pts, frames = _pyav(path, "video")
        with av.open(path) as container:
            stream = container.streams.video[0]
            time_base, fps = stream.time_base, float(stream.average_rate)
        assert vio.read_video_timestamps(path) == (pts, fps)
        seconds, rate = vio.read_video_timestamps(path, pts_unit="sec")
        assert rate == fps and seconds == [p * time_base for p in pts]
        assert all(isinstance(s, Fraction) for s in seconds)
    assert vio.read_video_timestamps(lossless[0], "sec")[0] == [Fraction(i, 10) for i in range(12)]


def test_write_video_rounds_a_float_rate_and_takes_codec_options(tmp_path):
    path = str(tmp_path / "rate.mp4")
    vio.write_video(path, ember.from_numpy(_frames(5)), 7.6, video_codec="mpeg4", options={"qscale": "2"})
    with av.open(path) as container:
        stream = container.streams.video[0]
        assert stream.average_rate == 8 and stream.codec_context.name == "mpeg4"
        assert (stream.codec_context.width, stream.codec_context.height) == (24, 16)
    video, audio, info = vio.read_video(path, pts_unit="sec")
    assert video.shape == (5, 16, 24, 3) and audio.shape == (1, 0) and info == {"video_fps": 8.0}


def test_bad_arguments_raise_and_unreadable_files_read_empty(tmp_path, lossless):
    with pytest.raises(ValueError, match="output_format should be either 'THWC' or 'TCHW', got NCHW"):
        vio.read_video(lossless[0], output_format="nchw")
    with pytest.raises(ValueError, match="end_pts should be larger than start_pts"):
        vio.read_video(lossless[0], 5, 2)
    missing = str(tmp_path / "missing.mp4")
    video, audio, info = vio.read_video(missing, pts_unit="sec")
    assert video.shape == (0, 1, 1, 3) and video.dtype == ember.uint8
    assert audio.shape == (1, 0) and audio.dtype == ember.float32 and info == {}
    with pytest.warns(RuntimeWarning, match="Failed to open container for"):
        assert vio.read_video_timestamps(missing) == ([], None)


def test_video_reader_iterates_seeks_and_describes_streams(lossless, lossy):
    path, frames = lossless
    reader = vio.VideoReader(path)
    items = list(reader)
    assert [item["pts"] for item in items] == [i / 10 for i in range(12)]
    numpy.testing.assert_array_equal(numpy.stack([item["data"].numpy() for item in items]),
                                     frames.transpose(0, 3, 1, 2))
    with av.open(path) as container:
        keys = [frame.pts / 1000 for frame in container.decode(video=0) if frame.key_frame]
    for time in (0.5, 1.05):
        with pytest.warns(UserWarning, match="Accurate seek is not implemented"):
            reader.seek(time)
        first = next(reader)   # PyAV seeks to the key frame at or before the time
        assert first["pts"] == max(key for key in keys if key <= time)
        numpy.testing.assert_array_equal(first["data"].numpy(), frames[round(first["pts"] * 10)].transpose(2, 0, 1))
    sound = vio.VideoReader(path, "audio")
    chunks = [item["data"].numpy() for item in sound]
    _, decoded = _pyav(path, "audio")
    numpy.testing.assert_array_equal(numpy.concatenate(chunks), numpy.concatenate(decoded, 1).T)
    with open(lossy, "rb") as f:
        from_bytes = vio.VideoReader(f.read())
    _, decoded = _pyav(lossy, "video")
    assert len(list(from_bytes.seek(0, keyframes_only=True))) == len(decoded)
    metadata = vio.VideoReader(lossy).get_metadata()
    assert metadata["video"]["fps"] == [12.0] and metadata["audio"]["framerate"] == [16000.0]
    assert metadata["video"]["duration"][0] == pytest.approx(15 / 12)
    assert vio.VideoReader(lossy, "audio:0").set_current_stream("video") is True


def test_video_reader_rejects_empty_paths_tensors_and_other_sources():
    with pytest.raises(ValueError, match="src cannot be empty"):
        vio.VideoReader("")
    with pytest.raises(RuntimeError, match="cannot be initialized from Tensor"):
        vio.VideoReader(ember.zeros(4, dtype=ember.uint8))
    with pytest.raises(ValueError, match="src must be either string, Tensor or bytes object"):
        vio.VideoReader(3)


def test_importing_the_video_functions_does_not_load_pyav():
    code = "import sys, ember.vision.io as io; io.read_video; io.VideoReader; print('av' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_the_video_backend_is_pyav_whatever_is_set():
    import ember.vision
    ember.vision.set_video_backend("video_reader")   # torchvision 0.28 accepts and ignores it too
    assert ember.vision.get_video_backend() == "pyav"
