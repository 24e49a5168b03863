"""``ember.audio.datasets``: torchaudio's datasets, read from their extracted layout under ``root``."""
from .librispeech import LIBRISPEECH
from .speechcommands import SPEECHCOMMANDS
from .yesno import YESNO

__all__ = ["LIBRISPEECH", "SPEECHCOMMANDS", "YESNO"]
