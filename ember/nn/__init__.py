"""``ember.nn``: modules, parameters, initialisation and the functional layer API."""
import importlib as _importlib

from . import functional, grad, init  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import Module  # noqa: F401
from . import parallel, utils  # noqa: F401,E402
# ``from .modules import *`` bound the submodules of ``nn.modules`` here too (``nn.attention`` became
# ``nn.modules.attention``); PyTorch's ``nn`` has none of them, and its ``nn.attention`` is the package below.
for _name, _value in list(globals().items()):
    if getattr(_value, "__name__", "").startswith(f"{__name__}.modules.") and _name != "modules":
        del globals()[_name]
del _name, _value
attention = _importlib.import_module(f"{__name__}.attention")
from .parallel import DataParallel, SyncBatchNorm  # noqa: F401
from .parameter import Buffer, Parameter  # noqa: F401
from .parameter import UninitializedBuffer, UninitializedParameter  # noqa: F401


def __getattr__(name):
    # the quantization namespaces (torch.nn.quantized, .intrinsic, .qat) load on first use
    if name in ("quantized", "intrinsic", "qat"):
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
