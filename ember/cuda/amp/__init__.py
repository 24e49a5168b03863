"""``ember.cuda.amp``: PyTorch's deprecated CUDA aliases of ``ember.amp``'s autocast, GradScaler and custom_fwd/bwd."""
from ... import _dtype
from ...amp._deprecated import cuda_custom_bwd as custom_bwd, cuda_custom_fwd as custom_fwd  # noqa: F401
from ...amp._deprecated import device_autocast, device_grad_scaler

autocast = device_autocast("cuda", _dtype.float16)
GradScaler = device_grad_scaler("cuda")
