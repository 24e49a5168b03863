"""``ember.signal``: signal-processing helpers (``torch.signal``)."""
from . import windows  # noqa: F401
