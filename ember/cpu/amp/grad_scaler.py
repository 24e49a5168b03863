"""``ember.cpu.amp.grad_scaler``: the deprecated ``torch.cpu.amp.GradScaler`` class."""
from ...amp._deprecated import device_grad_scaler

GradScaler = device_grad_scaler("cpu")
