"""``ember.ao.nn.intrinsic.quantized`` (``torch.ao.nn.intrinsic.quantized``): quantized fused modules."""
from . import dynamic  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import __all__  # noqa: F401
