"""``ember.audio.functional``: torchaudio.functional's spectral features, resampling and filters."""
from .filtering import *  # noqa: F401,F403
from .functional import *  # noqa: F401,F403
