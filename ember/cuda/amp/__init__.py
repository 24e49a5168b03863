"""``ember.cuda.amp``: PyTorch's deprecated CUDA aliases of ``ember.amp``'s autocast, GradScaler and custom_fwd/bwd."""
from ... import _dtype
from ...amp._deprecated import cuda_custom_bwd, cuda_custom_fwd, device_autocast, device_grad_scaler
from .common import amp_definitely_not_available  # noqa: F401  (binds .common as well, as PyTorch's)

autocast = device_autocast("cuda", _dtype.float16)
GradScaler = device_grad_scaler("cuda")
custom_fwd, custom_bwd = cuda_custom_fwd, cuda_custom_bwd
