"""``ember.ao.nn`` (``torch.ao.nn``): quantized modules (``quantized``), fused ones (``intrinsic``) and those for
quantization-aware training (``qat``); ``intrinsic`` and ``qat`` load on first use."""
import importlib

from . import quantized  # noqa: F401


def __getattr__(name):
    if name in ("intrinsic", "qat"):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
