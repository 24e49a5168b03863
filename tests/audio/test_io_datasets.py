"""ember.audio load/save/info through soundfile and the wave fallback, checked against scipy.io.wavfile, and the
datasets on layouts the tests write (checksum checks through local file:// archives)."""
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import warnings
import wave

import numpy
import pytest

import ember
import ember.audio as audio

wavfile = pytest.importorskip("scipy.io.wavfile")
soundfile = pytest.importorskip("soundfile")

RNG = numpy.random.default_rng(0)
SAMPLES = {"int16": RNG.integers(-32768, 32767, (400, 2)).astype(numpy.int16),
           "int32": RNG.integers(-2 ** 31, 2 ** 31 - 1, (400, 2)).astype(numpy.int32),
           "uint8": RNG.integers(0, 255, (400, 2)).astype(numpy.uint8),
           "float32": RNG.uniform(-1, 1, (400, 2)).astype(numpy.float32)}
FULL_SCALE = {"int16": 32768.0, "int32": 2.0 ** 31}


def normalized(data):
    if data.dtype == numpy.uint8:
        return (data.astype(numpy.float32) - 128) / 128
    if data.dtype.kind == "i":
        return (data / FULL_SCALE[data.dtype.name]).astype(numpy.float32)
    return data


@pytest.mark.parametrize("backend", ["soundfile", "wave"])
@pytest.mark.parametrize("kind", list(SAMPLES))
def test_load_matches_scipy_wavfile(tmp_path, backend, kind):
    data = SAMPLES[kind]
    path = tmp_path / f"{kind}.wav"
    wavfile.write(path, 8000, data)
    if backend == "wave" and kind == "float32":
        with pytest.raises(wave.Error):   # the wave module reads integer PCM only
            audio.load(path, backend=backend)
        return
    waveform, rate = audio.load(path, backend=backend)
    assert rate == 8000 and waveform.dtype == ember.float32 and waveform.shape == (2, 400)
    numpy.testing.assert_allclose(waveform.numpy(), normalized(data).T, rtol=1e-6, atol=1e-7)
    raw, _ = audio.load(path, normalize=False, channels_first=False, backend=backend)
    assert raw.dtype == ember.from_numpy(data).dtype
    numpy.testing.assert_array_equal(raw.numpy(), data)
    part, _ = audio.load(path, frame_offset=100, num_frames=50, backend=backend)
    numpy.testing.assert_allclose(part.numpy(), normalized(data)[100:150].T, rtol=1e-6, atol=1e-7)
    meta = audio.info(path, backend=backend)
    bits = {"int16": 16, "int32": 32, "uint8": 8, "float32": 32}[kind]
    encoding = {"int16": "PCM_S", "int32": "PCM_S", "uint8": "PCM_U", "float32": "PCM_F"}[kind]
    assert (meta.sample_rate, meta.num_frames, meta.num_channels, meta.bits_per_sample, meta.encoding) == (
        8000, 400, 2, bits, encoding)
    # torchaudio prints the encoding unquoted (its __str__; the audio I/O tutorial prints info's result)
    assert str(meta) == (f"AudioMetaData(sample_rate=8000, num_frames=400, num_channels=2, bits_per_sample={bits}, "
                         f"encoding={encoding})")


@pytest.mark.parametrize("backend", ["soundfile", "wave"])
def test_24_bit_pcm_loads_left_aligned(tmp_path, backend):
    values = RNG.integers(-2 ** 23, 2 ** 23 - 1, (300, 1)).astype(numpy.int32)
    path = tmp_path / "deep.wav"
    soundfile.write(path, values / 2.0 ** 23, 16000, subtype="PCM_24")
    raw, _ = audio.load(path, normalize=False, backend=backend)
    numpy.testing.assert_array_equal(raw.numpy(), (values << 8).T)
    waveform, _ = audio.load(path, backend=backend)
    numpy.testing.assert_allclose(waveform.numpy(), (values / 2.0 ** 23).T, atol=1e-7)
    assert audio.info(path, backend=backend).bits_per_sample == 24


@pytest.mark.parametrize("backend", ["soundfile", "wave"])
def test_save_round_trips_through_scipy(tmp_path, backend):
    signal = ember.tensor(SAMPLES["float32"].T.copy())
    path = tmp_path / "out.wav"
    audio.save(path, signal, 16000, encoding="PCM_S", bits_per_sample=16, backend=backend)
    rate, data = wavfile.read(path)
    assert rate == 16000 and data.dtype == numpy.int16
    numpy.testing.assert_allclose(data / 32768.0, SAMPLES["float32"], atol=1.0 / 32768 + 1e-7)
    ints = ember.from_numpy(SAMPLES["int16"].T.copy())
    audio.save(path, ints, 8000, backend=backend)
    numpy.testing.assert_array_equal(wavfile.read(path)[1], SAMPLES["int16"])
    audio.save(path, ember.from_numpy(SAMPLES["uint8"]), 8000, channels_first=False, backend=backend)
    numpy.testing.assert_array_equal(wavfile.read(path)[1], SAMPLES["uint8"])


def test_save_float_and_flac_through_soundfile(tmp_path):
    signal = ember.tensor(SAMPLES["float32"].T.copy())
    audio.save(tmp_path / "float.wav", signal, 22050)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wavfile.WavFileWarning)   # libsndfile adds a PEAK chunk to float WAVs
        rate, data = wavfile.read(tmp_path / "float.wav")
    assert data.dtype == numpy.float32
    numpy.testing.assert_array_equal(data, SAMPLES["float32"])
    audio.save(tmp_path / "x.flac", signal, 22050, bits_per_sample=16)
    meta = audio.info(tmp_path / "x.flac")
    assert (meta.encoding, meta.bits_per_sample, meta.num_frames) == ("FLAC", 16, 400)
    loaded, rate = audio.load(tmp_path / "x.flac")
    numpy.testing.assert_allclose(loaded.numpy(), SAMPLES["float32"].T, atol=1.0 / 32768 + 1e-7)
    with pytest.raises(RuntimeError, match="soundfile"):
        audio.save(tmp_path / "float2.wav", signal, 22050, backend="wave")
    with pytest.raises(ValueError, match="2D"):
        audio.save(tmp_path / "bad.wav", ember.zeros(10), 8000)


@pytest.mark.parametrize("backend", ["soundfile", "wave"])
def test_file_like_objects_load_info_and_save(tmp_path, backend):
    data = SAMPLES["int16"]
    path = tmp_path / "x.wav"
    wavfile.write(path, 8000, data)
    with open(path, "rb") as f:    # info and samples read from one pass over the stream
        assert audio.info(f, backend=backend).num_frames == 400
    with open(path, "rb") as f:
        waveform, rate = audio.load(f, backend=backend)
    numpy.testing.assert_allclose(waveform.numpy(), normalized(data).T, rtol=1e-6)
    with open(path, "rb") as f:
        part, _ = audio.load(f, frame_offset=100, num_frames=50, backend=backend)
    numpy.testing.assert_array_equal(part.numpy(), waveform.numpy()[:, 100:150])
    with tarfile.open(tmp_path / "a.tar", "w") as archive:
        archive.add(path, arcname="inside/x.wav")
    with tarfile.open(tmp_path / "a.tar") as archive:
        numpy.testing.assert_array_equal(audio.load(archive.extractfile("inside/x.wav"), backend=backend)[0].numpy(),
                                         waveform.numpy())
    buffer = io.BytesIO()
    audio.save(buffer, ember.from_numpy(data.T.copy()), 8000, format="wav", backend=backend)
    buffer.seek(0)
    assert buffer.read(4) == b"RIFF"
    buffer.seek(0)
    numpy.testing.assert_array_equal(wavfile.read(buffer)[1], data)
    with pytest.raises(RuntimeError, match="`format` is required when saving to file object."):
        audio.save(io.BytesIO(), waveform, 8000, backend=backend)


@pytest.mark.parametrize("fmt, encoding, bits", [("sph", "PCM_S", 32), ("amb", "PCM_F", 32), ("mp3", "MP3", 0)])
def test_save_sph_amb_mp3_through_soundfile(tmp_path, fmt, encoding, bits):
    if fmt == "mp3" and "MP3" not in soundfile.available_formats():
        pytest.skip("this libsndfile has no MP3")
    t = numpy.arange(8000) / 8000
    signal = ember.tensor(numpy.stack([numpy.sin(2 * numpy.pi * 440 * t)] * 2).astype(numpy.float32) * 0.5)
    audio.save(tmp_path / f"x.{fmt}", signal, 8000)
    meta = audio.info(tmp_path / f"x.{fmt}")
    assert (meta.sample_rate, meta.num_channels, meta.bits_per_sample, meta.encoding) == (8000, 2, bits, encoding)
    loaded, rate = audio.load(tmp_path / f"x.{fmt}")
    assert rate == 8000 and loaded.shape[0] == 2
    if fmt != "mp3":   # lossless
        numpy.testing.assert_allclose(loaded.numpy(), signal.numpy(), atol=1e-7)


def test_import_ember_audio_loads_no_soundfile():
    code = "import sys, ember, ember.audio; print('soundfile' in sys.modules, 'librosa' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            cwd=os.path.dirname(os.path.dirname(ember.__file__)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


# --- datasets -------------------------------------------------------------------------------------------------

def _tone(path, rate=8000, frames=800, value=0.25):
    soundfile.write(path, numpy.full(frames, value), rate, subtype="PCM_16")


def test_yesno_reads_the_extracted_layout_and_downloads_with_a_checked_archive(tmp_path):
    source = tmp_path / "src" / "waves_yesno"
    source.mkdir(parents=True)
    for name in ("0_0_1_1_0_1_0_1", "1_1_1_1_0_0_0_0"):
        _tone(source / f"{name}.wav")
    archive = tmp_path / "src" / "waves_yesno.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source, arcname="waves_yesno")
    dataset = audio.datasets.YESNO(tmp_path / "root", url=archive.as_uri(), download=True)
    assert len(dataset) == 2
    waveform, rate, labels = dataset[1]
    assert rate == 8000 and waveform.shape == (1, 800) and labels == [1, 1, 1, 1, 0, 0, 0, 0]
    numpy.testing.assert_allclose(waveform.numpy(), 0.25, atol=1e-4)
    assert dataset.get_metadata(0)[2] == [0, 0, 1, 1, 0, 1, 0, 1]
    with pytest.raises(RuntimeError, match="not found"):
        audio.datasets.YESNO(tmp_path / "empty")


def test_download_checks_the_sha256(tmp_path):
    from ember.audio.datasets.utils import download_url_to_file
    payload = tmp_path / "payload.bin"
    payload.write_bytes(b"ember audio")
    digest = hashlib.sha256(b"ember audio").hexdigest()
    download_url_to_file(payload.as_uri(), tmp_path / "ok.bin", hash_prefix=digest[:10])
    assert (tmp_path / "ok.bin").read_bytes() == b"ember audio"
    with pytest.raises(RuntimeError, match="invalid hash"):
        download_url_to_file(payload.as_uri(), tmp_path / "bad.bin", hash_prefix="0" * 64)
    assert not (tmp_path / "bad.bin").exists()
    from ember.audio.datasets import librispeech, speechcommands, yesno
    checksums = list(librispeech._CHECKSUMS.values()) + list(speechcommands._CHECKSUMS.values()) + [
        yesno._RELEASE_CONFIGS["release1"]["checksum"]]
    assert all(len(c) == 64 and int(c, 16) >= 0 for c in checksums)


def test_speechcommands_subsets(tmp_path):
    base = tmp_path / "SpeechCommands" / "speech_commands_v0.02"
    files = {"yes": ["a1b2_nohash_0", "c3d4_nohash_1"], "no": ["a1b2_nohash_2"], "_background_noise_": []}
    for label, names in files.items():
        (base / label).mkdir(parents=True)
        for name in names:
            _tone(base / label / f"{name}.wav", 16000, 1600)
    _tone(base / "_background_noise_" / "noise.wav", 16000, 1600)
    (base / "validation_list.txt").write_text("yes/c3d4_nohash_1.wav\n")
    (base / "testing_list.txt").write_text("no/a1b2_nohash_2.wav\n")
    everything = audio.datasets.SPEECHCOMMANDS(tmp_path)
    assert len(everything) == 3
    training = audio.datasets.SPEECHCOMMANDS(tmp_path, subset="training")
    waveform, rate, label, speaker, utterance = training[0]
    assert len(training) == 1 and (rate, label, speaker, utterance) == (16000, "yes", "a1b2", 0)
    assert waveform.shape == (1, 1600)
    assert audio.datasets.SPEECHCOMMANDS(tmp_path, subset="validation")[0][2:] == ("yes", "c3d4", 1)
    assert audio.datasets.SPEECHCOMMANDS(tmp_path, subset="testing").get_metadata(0)[2:] == ("no", "a1b2", 2)
    with pytest.raises(ValueError, match="subset"):
        audio.datasets.SPEECHCOMMANDS(tmp_path, subset="train")


def test_librispeech_reads_flac_and_transcripts(tmp_path):
    chapter = tmp_path / "LibriSpeech" / "dev-clean" / "84" / "121123"
    chapter.mkdir(parents=True)
    for utterance in (0, 1):
        _tone(chapter / f"84-121123-{utterance:04d}.flac", 16000, 320, 0.1 * (utterance + 1))
    (chapter / "84-121123.trans.txt").write_text("84-121123-0000 GO DO YOU HEAR\n84-121123-0001 BUT IN LESS\n")
    dataset = audio.datasets.LIBRISPEECH(tmp_path, url="dev-clean")
    assert len(dataset) == 2
    waveform, rate, transcript, speaker, chapter_id, utterance = dataset[1]
    assert (rate, transcript, speaker, chapter_id, utterance) == (16000, "BUT IN LESS", 84, 121123, 1)
    numpy.testing.assert_allclose(waveform.numpy(), 0.2, atol=1e-4)
    with pytest.raises(ValueError, match="Invalid url"):
        audio.datasets.LIBRISPEECH(tmp_path, url="dev-dirty")
    with pytest.raises(RuntimeError, match="not found"):
        audio.datasets.LIBRISPEECH(tmp_path, url="test-clean")


def test_download_asset_uses_the_hub_cache_and_checks_the_hash(tmp_path, monkeypatch):
    from ember.audio.utils import _download_asset, download_asset
    monkeypatch.setattr(ember.hub, "get_dir", lambda: str(tmp_path))
    fetched = []

    def fake_download(url, dst, hash_prefix=None, progress=True):
        fetched.append(url)
        with open(dst, "wb") as f:
            f.write(b"asset")

    monkeypatch.setattr(ember.hub, "download_url_to_file", fake_download)
    key = "tutorial-assets/steam-train-whistle-daniel_simon.wav"
    path = download_asset(key)
    assert path == str(tmp_path / "torchaudio" / key) and fetched == [f"https://download.pytorch.org/torchaudio/{key}"]
    digest = hashlib.sha256(b"asset").hexdigest()
    assert _download_asset(key, hash=digest) == path and len(fetched) == 1   # cached: no second download
    with pytest.raises(ValueError, match="does not match the provided hash value, '00'"):
        download_asset(key, hash="00")
    assert download_asset("x.wav", path=tmp_path / "here.wav").endswith("here.wav") and len(fetched) == 2
