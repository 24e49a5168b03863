"""``ember.ao.nn.qat`` (``torch.ao.nn.qat``, also ``torch.nn.qat``): modules for quantization-aware training,
float layers whose weights are fake-quantized on every forward."""
from .modules import *  # noqa: F401,F403
from .modules import __all__  # noqa: F401
