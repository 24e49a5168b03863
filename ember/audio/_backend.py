"""Audio files: torchaudio's ``load`` / ``save`` / ``info`` through ``soundfile`` (WAV, FLAC, OGG, ...) when it is
installed, and the standard library's ``wave`` (integer PCM WAV) otherwise."""
import os
import wave

import numpy

import ember

__all__ = ["AudioMetaData", "info", "load", "save", "list_audio_backends"]


class AudioMetaData:
    """What ``info`` reports about an audio file (a plain class as torchaudio's: printed by ``__str__``, compared by
    identity)."""

    def __init__(self, sample_rate, num_frames, num_channels, bits_per_sample, encoding):
        self.sample_rate = sample_rate
        self.num_frames = num_frames
        self.num_channels = num_channels
        self.bits_per_sample = bits_per_sample
        self.encoding = encoding

    def __str__(self):
        return (f"AudioMetaData(sample_rate={self.sample_rate}, num_frames={self.num_frames}, "
                f"num_channels={self.num_channels}, bits_per_sample={self.bits_per_sample}, "
                f"encoding={self.encoding})")


# soundfile subtype -> (bits per sample, torchaudio encoding)
_SUBTYPES = {"PCM_S8": (8, "PCM_S"), "PCM_U8": (8, "PCM_U"), "PCM_16": (16, "PCM_S"), "PCM_24": (24, "PCM_S"),
             "PCM_32": (32, "PCM_S"), "FLOAT": (32, "PCM_F"), "DOUBLE": (64, "PCM_F"), "ULAW": (8, "ULAW"),
             "ALAW": (8, "ALAW"), "VORBIS": (0, "VORBIS"), "OPUS": (0, "OPUS"), "MPEG_LAYER_III": (0, "MP3")}
# (encoding, bits per sample) -> soundfile subtype
_ENCODINGS = {("PCM_S", 8): "PCM_S8", ("PCM_U", 8): "PCM_U8", ("PCM_S", 16): "PCM_16", ("PCM_S", 24): "PCM_24",
              ("PCM_S", 32): "PCM_32", ("PCM_F", 32): "FLOAT", ("PCM_F", 64): "DOUBLE", ("ULAW", 8): "ULAW",
              ("ALAW", 8): "ALAW"}
_DEFAULT_ENCODING = {"float32": ("PCM_F", 32), "float64": ("PCM_F", 64), "int32": ("PCM_S", 32),
                     "int16": ("PCM_S", 16), "uint8": ("PCM_U", 8)}


def _soundfile():
    try:
        import soundfile
    except (ImportError, OSError):   # OSError: the Python package is there but libsndfile is not
        return None
    return soundfile


def list_audio_backends():
    """The available backends: "soundfile" when installed, and always "wave" (integer PCM WAV only)."""
    return (["soundfile"] if _soundfile() is not None else []) + ["wave"]


def _backend(backend):
    if backend is None:
        return "soundfile" if _soundfile() is not None else "wave"
    if backend not in list_audio_backends():
        raise RuntimeError(f"Backend {backend!r} is not available; available: {list_audio_backends()}")
    return backend


def _bits_and_encoding(reader):
    """(bits per sample, torchaudio encoding) of an open soundfile.SoundFile."""
    bits, encoding = _SUBTYPES.get(reader.subtype, (0, reader.subtype))
    return bits, "FLAC" if reader.format == "FLAC" else encoding


def _wave_source(uri):
    """What ``wave.open`` takes: a file-like object as it is, a path as a string."""
    return uri if hasattr(uri, "read") or hasattr(uri, "write") else os.fspath(uri)


def info(uri, format=None, buffer_size=4096, backend=None):
    """Sample rate, frame and channel counts, bits per sample and encoding of an audio file."""
    if _backend(backend) == "soundfile":
        with _soundfile().SoundFile(uri) as reader:
            bits, encoding = _bits_and_encoding(reader)
            return AudioMetaData(reader.samplerate, reader.frames, reader.channels, bits, encoding)
    with wave.open(_wave_source(uri), "rb") as reader:
        bits = 8 * reader.getsampwidth()
        return AudioMetaData(reader.getframerate(), reader.getnframes(), reader.getnchannels(), bits,
                             "PCM_U" if bits == 8 else "PCM_S")


def _native_dtype(bits, encoding):
    """The integer dtype torchaudio returns for ``normalize=False`` (None: floats)."""
    if encoding == "PCM_U" and bits == 8:
        return "uint8"
    if encoding in ("PCM_S", "FLAC") and bits:
        return "int16" if bits <= 16 else "int32"
    return None


def load(uri, frame_offset=0, num_frames=-1, normalize=True, channels_first=True, format=None, buffer_size=4096,
         backend=None):
    """(waveform, sample_rate): float32 in [-1, 1] by default, the file's integer type when ``normalize=False``;
    (channels, frames) when ``channels_first``, else (frames, channels)."""
    if _backend(backend) == "soundfile":
        data, sample_rate = _load_soundfile(uri, frame_offset, num_frames, normalize)
    else:
        data, sample_rate = _load_wave(uri, frame_offset, num_frames, normalize)
    tensor = ember.from_numpy(numpy.require(data.T if channels_first else data, requirements="CW"))   # writable
    return tensor, sample_rate


def _load_soundfile(uri, frame_offset, num_frames, normalize):
    # one open file for the metadata and the samples, so that a file-like object is read once, from where it is
    with _soundfile().SoundFile(uri) as reader:
        native = None if normalize else _native_dtype(*_bits_and_encoding(reader))
        read_as = "float32" if native is None else ("int16" if native == "uint8" else native)
        if frame_offset:
            reader.seek(min(frame_offset, reader.frames))
        data, sample_rate = reader.read(frames=num_frames, dtype=read_as, always_2d=True), reader.samplerate
    if native == "uint8":   # soundfile has no unsigned reads: 8-bit samples come back scaled to 16 bits
        data = ((data.astype(numpy.int32) >> 8) + 128).astype(numpy.uint8)
    return data, sample_rate


def _load_wave(uri, frame_offset, num_frames, normalize):
    with wave.open(_wave_source(uri), "rb") as reader:
        width, channels, sample_rate = reader.getsampwidth(), reader.getnchannels(), reader.getframerate()
        reader.setpos(min(frame_offset, reader.getnframes()))
        count = reader.getnframes() - reader.tell() if num_frames < 0 else num_frames
        raw = reader.readframes(count)
    if width == 1:
        data = numpy.frombuffer(raw, numpy.uint8)
    elif width == 3:   # 24-bit: left-align each little-endian sample in an int32, as torchaudio does
        triples = numpy.frombuffer(raw, numpy.uint8).reshape(-1, 3).astype(numpy.int32)
        data = (triples[:, 0] << 8) | (triples[:, 1] << 16) | (triples[:, 2] << 24)
    else:
        data = numpy.frombuffer(raw, {2: "<i2", 4: "<i4"}[width]).astype({2: numpy.int16, 4: numpy.int32}[width])
    data = data.reshape(-1, channels)
    if normalize:
        if width == 1:
            data = (data.astype(numpy.float32) - 128) / 128
        else:
            data = (data / float(2 ** (8 * (4 if width == 3 else width) - 1))).astype(numpy.float32)
    return data, sample_rate


def save(uri, src, sample_rate, channels_first=True, format=None, encoding=None, bits_per_sample=None,
         buffer_size=4096, backend=None, compression=None):
    """Writes a (channels, frames) tensor (or (frames, channels) with ``channels_first=False``) as an audio file;
    the encoding defaults from the dtype (float32 -> 32-bit float, int16 -> 16-bit PCM, ...)."""
    if src.ndim != 2:
        raise ValueError(f"Expected 2D Tensor, got {src.ndim}D.")
    data = src.detach().cpu().numpy()
    data = data.T if channels_first else data
    default_encoding, default_bits = _DEFAULT_ENCODING.get(data.dtype.name, ("PCM_F", 32))
    if encoding is None and bits_per_sample is not None:
        encoding = "PCM_F" if default_encoding == "PCM_F" and bits_per_sample in (32, 64) else "PCM_S"
        if bits_per_sample == 8 and encoding == "PCM_S":
            encoding = "PCM_U"
    encoding = encoding or default_encoding
    bits = bits_per_sample or (default_bits if encoding == default_encoding else
                               {"PCM_S": 16, "PCM_U": 8, "PCM_F": 32, "ULAW": 8, "ALAW": 8}[encoding])
    if format is None and hasattr(uri, "write"):
        raise RuntimeError("`format` is required when saving to file object.")
    extension = (format or os.path.splitext(os.fspath(uri))[1].lstrip(".")).lower()
    if _backend(backend) == "soundfile":
        _save_soundfile(uri, data, sample_rate, extension, encoding, bits)
    else:
        _save_wave(uri, data, sample_rate, extension, encoding, bits)


def _save_soundfile(uri, data, sample_rate, extension, encoding, bits):
    soundfile = _soundfile()
    if extension in ("ogg", "vorbis"):
        subtype, file_format = "VORBIS", "OGG"
    elif extension == "mp3":
        subtype, file_format = "MPEG_LAYER_III", "MP3"
    else:
        subtype = _ENCODINGS.get((encoding, bits))
        if subtype is None:
            raise ValueError(f"Encoding {encoding} with {bits} bits per sample is not supported.")
        # sph is NIST SPHERE, amb the Ambisonic B-format WAVE (WAVE_FORMAT_EXTENSIBLE)
        file_format = {"wav": "WAV", "flac": "FLAC", "sph": "NIST", "amb": "WAVEX"}.get(extension, extension.upper())
        if file_format == "FLAC" and subtype in ("FLOAT", "DOUBLE", "PCM_32"):
            subtype = "PCM_24"
        elif file_format == "NIST" and subtype in ("FLOAT", "DOUBLE"):   # SPHERE holds integers only
            subtype = "PCM_32"
    if data.dtype == numpy.uint8:
        data = (data.astype(numpy.int16) - 128) << 8
    soundfile.write(uri, data, sample_rate, subtype=subtype, format=file_format)


def _save_wave(uri, data, sample_rate, extension, encoding, bits):
    if extension != "wav" or encoding not in ("PCM_S", "PCM_U") or bits not in (8, 16, 24, 32):
        raise RuntimeError(f"Writing {extension} files with encoding {encoding} ({bits} bits) needs the soundfile "
                           "package (pip install soundfile); without it, only integer PCM WAV can be written.")
    full_scale = 2.0 ** (bits - 1)
    if data.dtype.kind == "f":
        samples = numpy.clip(numpy.round(data.astype(numpy.float64) * full_scale), -full_scale, full_scale - 1)
    elif data.dtype == numpy.uint8:
        samples = (data.astype(numpy.float64) - 128) * (full_scale / 128)
    else:
        samples = data.astype(numpy.float64) * (full_scale / 2.0 ** (8 * data.dtype.itemsize - 1))
    samples = samples.astype(numpy.int64)
    if bits == 8:
        raw = (samples + 128).astype(numpy.uint8).tobytes()
    elif bits == 24:
        raw = (samples.astype("<i4").view(numpy.uint8).reshape(-1, 4)[:, :3]).tobytes()
    else:
        raw = samples.astype({16: "<i2", 32: "<i4"}[bits]).tobytes()
    with wave.open(_wave_source(uri), "wb") as writer:
        writer.setnchannels(data.shape[1])
        writer.setsampwidth(bits // 8)
        writer.setframerate(int(sample_rate))
        writer.writeframes(raw)
