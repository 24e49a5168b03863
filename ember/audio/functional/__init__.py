"""``ember.audio.functional``: torchaudio.functional's spectral features, resampling, filters, effects,
convolutions, measurements and voice activity detection."""
from .alignment import *  # noqa: F401,F403
from .analysis import *  # noqa: F401,F403
from .beamforming import *  # noqa: F401,F403
from .convolution import *  # noqa: F401,F403
from .effects import *  # noqa: F401,F403
from .filtering import *  # noqa: F401,F403
from .functional import *  # noqa: F401,F403
from .vad import *  # noqa: F401,F403
