"""``ember.cuda.amp.autocast_mode``: the deprecated ``torch.cuda.amp`` autocast class and custom_fwd/custom_bwd."""
from ... import _dtype
from ...amp._deprecated import cuda_custom_bwd, cuda_custom_fwd, device_autocast

autocast = device_autocast("cuda", _dtype.float16)
custom_fwd, custom_bwd = cuda_custom_fwd, cuda_custom_bwd
