"""``ember.cpu.amp``: PyTorch's deprecated CPU aliases of ``ember.amp.autocast`` and ``ember.amp.GradScaler``."""
from .autocast_mode import autocast  # noqa: F401
from .grad_scaler import GradScaler  # noqa: F401
