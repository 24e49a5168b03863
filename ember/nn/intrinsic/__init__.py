"""``ember.nn.intrinsic`` (``torch.nn.intrinsic``): the older name of ``ember.ao.nn.intrinsic``."""
from ember.ao.nn.intrinsic import *  # noqa: F401,F403
from ember.ao.nn.intrinsic import __all__, _FusedModule, modules, qat, quantized  # noqa: F401
