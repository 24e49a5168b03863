"""``ember.audio.compliance``: torchaudio.compliance, features computed as Kaldi computes them."""
from . import kaldi  # noqa: F401
