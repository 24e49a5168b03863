"""``ember.cpu.amp.autocast_mode``: the deprecated ``torch.cpu.amp.autocast`` class."""
from ... import _dtype
from ...amp._deprecated import device_autocast

autocast = device_autocast("cpu", _dtype.bfloat16)
