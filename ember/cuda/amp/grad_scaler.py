"""``ember.cuda.amp.grad_scaler``: the deprecated ``torch.cuda.amp.GradScaler`` class."""
from ...amp._deprecated import device_grad_scaler

GradScaler = device_grad_scaler("cuda")
