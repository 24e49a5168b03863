"""``backends.mkldnn``: the oneDNN switches PyTorch programs set; ember computes with NumPy, not oneDNN, so they
change nothing."""
import sys

from ._switches import FlagModule, Silent, switched

enabled = True
deterministic = False
allow_tf32 = True
_FLAGS = ("enabled", "deterministic", "allow_tf32")
VERBOSE_OFF, VERBOSE_ON, VERBOSE_ON_CREATION = 0, 1, 2


def is_available():
    """False: ember does not use oneDNN (MKL-DNN)."""
    return False


def flags(enabled=False, deterministic=False, allow_tf32=True, fp32_precision="none"):
    """Sets the switches for a ``with`` block."""
    return switched(sys.modules[__name__], enabled=enabled, deterministic=deterministic, allow_tf32=allow_tf32)


class verbose(Silent):
    """oneDNN's on-demand verbose output for a ``with`` block: ember runs no oneDNN kernels, so nothing is printed."""

    def __init__(self, level):
        self.level = level


sys.modules[__name__].__class__ = FlagModule
