"""``backends.cudnn``: the flags PyTorch programs set; ember has no cuDNN, so they change nothing."""
import sys

from ._switches import FlagModule, switched

benchmark = False
benchmark_limit = 10
deterministic = False
enabled = True
allow_tf32 = True
_FLAGS = ("benchmark", "benchmark_limit", "deterministic", "enabled", "allow_tf32")


def is_available():
    """False: ember does not use cuDNN."""
    return False


def version():
    """None: no cuDNN library is loaded."""
    return None


def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False, allow_tf32=True,
          fp32_precision="none", depthwise_kernel="auto"):
    """Sets the flags for a ``with`` block."""
    return switched(sys.modules[__name__], enabled=enabled, benchmark=benchmark, benchmark_limit=benchmark_limit,
                    deterministic=deterministic, allow_tf32=allow_tf32)


sys.modules[__name__].__class__ = FlagModule
