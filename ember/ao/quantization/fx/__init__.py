"""``ember.ao.quantization.fx`` (``torch.ao.quantization.fx``): the passes of FX graph mode quantization (fusion,
observer insertion, conversion, lowering)."""
from .convert import convert  # noqa: F401
from .fuse import fuse  # noqa: F401
from .prepare import prepare  # noqa: F401

__all__ = ["convert", "fuse", "prepare"]
