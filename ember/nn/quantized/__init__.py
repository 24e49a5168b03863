"""``ember.nn.quantized`` (``torch.nn.quantized``): the older name of ``ember.ao.nn.quantized``."""
from ember.ao.nn.quantized import *  # noqa: F401,F403
from ember.ao.nn.quantized import __all__, functional, modules  # noqa: F401
from . import dynamic  # noqa: F401
