"""``ember.quantization`` (``torch.quantization``): the older name of ``ember.ao.quantization``."""
from . import (fake_quantize, fuse_modules, fuser_method_mappings, observer, qconfig,  # noqa: F401
               quantization_mappings, quantize, stubs)
from ember.ao.quantization import *  # noqa: F401,F403,E402  (after the submodules: the functions win their names)
from ember.ao.quantization import __all__  # noqa: F401,E402
