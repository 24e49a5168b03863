"""``ember.ao.nn.quantized`` (``torch.ao.nn.quantized``, also ``torch.nn.quantized``): statically quantized modules
(quantized inputs and outputs); the dynamically quantized ones live in ``dynamic``."""
from . import dynamic  # noqa: F401
from . import functional  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import __all__  # noqa: F401
