"""``ember.utils.benchmark``: PyTorch's ``torch.utils.benchmark`` for ember. ``Timer`` runs a Python statement in a
loop and returns a ``Measurement`` (replicate times with their median, IQR and a printed summary); ``Compare`` lays
many measurements out as one table per label. Only wall-clock timing of Python statements is available: C++ statements
and Callgrind instruction counts need PyTorch's C++ toolchain and raise."""
from .utils.common import *  # noqa: F401,F403
from .utils.timer import *  # noqa: F401,F403
from .utils.compare import *  # noqa: F401,F403
