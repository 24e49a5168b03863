"""``ember.audio``: torchaudio's role — audio I/O, spectral transforms and features, datasets — on ember's public
API. ``soundfile`` (optional: ``pip install ember[audio]``) reads and writes WAV/FLAC/OGG; without it, integer PCM
WAV goes through the standard library's ``wave``."""
from . import compliance, datasets, functional, transforms, utils  # noqa: F401
from ._backend import AudioMetaData, info, list_audio_backends, load, save  # noqa: F401
