"""``ember.quantization`` (``torch.quantization``): the older name of ``ember.ao.quantization``."""
from ember.ao.quantization import *  # noqa: F401,F403
from ember.ao.quantization import __all__  # noqa: F401
from . import fake_quantize, observer, qconfig, quantize, stubs  # noqa: F401
