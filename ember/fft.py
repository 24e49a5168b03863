"""``ember.fft``: PyTorch's discrete Fourier transforms (``torch.fft``)."""
from .ops.spectral import *  # noqa: F401,F403
from .ops.spectral import __all__  # noqa: F401

from .ops import numpy_keywords as _numpy_keywords  # noqa: E402
_numpy_keywords.install(globals())   # axis=, keepdims=, x=... as PyTorch's parsed functions
