"""``ember.ao.nn.intrinsic`` (``torch.ao.nn.intrinsic``, also ``torch.nn.intrinsic``): fused sequences of modules
(conv + bn + relu, linear + relu); their quantization-aware versions in ``qat``, quantized ones in ``quantized``."""
import importlib

from .modules import *  # noqa: F401,F403
from .modules import __all__  # noqa: F401
from .modules.fused import _FusedModule  # noqa: F401


def __getattr__(name):
    if name in ("qat", "quantized", "modules"):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
