"""``ember.cuda.amp``: PyTorch's deprecated CUDA aliases of ``ember.amp``'s autocast, GradScaler and custom_fwd/bwd."""
from .autocast_mode import autocast, custom_bwd, custom_fwd  # noqa: F401
from .common import amp_definitely_not_available  # noqa: F401  (binds .common as well, as PyTorch's)
from .grad_scaler import GradScaler  # noqa: F401
