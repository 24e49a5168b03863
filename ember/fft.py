"""``ember.fft``: PyTorch's discrete Fourier transforms (``torch.fft``)."""
from .ops.spectral import *  # noqa: F401,F403
from .ops.spectral import __all__  # noqa: F401
