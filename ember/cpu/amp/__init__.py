"""``ember.cpu.amp``: PyTorch's deprecated CPU aliases of ``ember.amp.autocast`` and ``ember.amp.GradScaler``."""
from ... import _dtype
from ...amp._deprecated import device_autocast, device_grad_scaler

autocast = device_autocast("cpu", _dtype.bfloat16)
GradScaler = device_grad_scaler("cpu")
