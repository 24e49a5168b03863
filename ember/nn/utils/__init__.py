"""Helpers around nn modules, as ``torch.nn.utils``."""
from . import rnn  # noqa: F401
