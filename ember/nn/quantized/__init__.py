"""``ember.nn.quantized`` (``torch.nn.quantized``): the older name of ``ember.ao.nn.quantized``."""
from ember.ao.nn.quantized import *  # noqa: F401,F403
from . import dynamic  # noqa: F401
