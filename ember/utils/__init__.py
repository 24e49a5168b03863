"""Utilities in PyTorch's layout: ``ember.utils.data`` holds datasets, samplers and the DataLoader."""
from . import data  # noqa: F401
from . import checkpoint  # noqa: F401,E402
