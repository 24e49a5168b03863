"""``ember.amp``: automatic mixed precision, as ``torch.amp``: ``autocast`` regions and the ``GradScaler``."""
from .autocast_mode import (
    _enter_autocast,  # noqa: F401
    _exit_autocast,  # noqa: F401
    autocast,  # noqa: F401
    custom_bwd,  # noqa: F401
    custom_fwd,  # noqa: F401
    is_autocast_available,  # noqa: F401
)
from .grad_scaler import GradScaler  # noqa: F401
