"""``nn.attention``: which backends ``scaled_dot_product_attention`` may use (``sdpa_kernel``), the fused-kernel
checks and the flash-attention implementation registry, as PyTorch's; ``bias`` and ``flex_attention`` are
submodules, imported on first use."""
import contextlib
import enum
import warnings

from ...backends import cuda as _cuda
from ._registry import (activate_flash_attention_impl, current_flash_attention_impl,  # noqa: F401
                        list_flash_attention_impls, register_flash_attention_impl, restore_flash_attention_impl)

__all__ = ["SDPBackend", "sdpa_kernel", "WARN_FOR_UNFUSED_KERNELS", "register_flash_attention_impl",
           "activate_flash_attention_impl", "list_flash_attention_impls", "current_flash_attention_impl",
           "restore_flash_attention_impl"]

# Set to True to be warned when a bias subclass (``bias.CausalBias``) falls back to the math kernel, and why.
WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.Enum):
    """The backends of ``scaled_dot_product_attention``; on the CPU, ``FLASH_ATTENTION`` (4-D inputs, no dropout)
    and ``MATH`` apply. As PyTorch's, a member converts to an int but does not equal one."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __int__(self):
        return self.value

    __index__ = __int__


class SDPAParams:
    """The arguments of one ``scaled_dot_product_attention`` call, as the ``can_use_*`` checks take them."""

    def __init__(self, query, key, value, attn_mask, dropout, is_causal, enable_gqa):
        self.query, self.key, self.value, self.attn_mask = query, key, value, attn_mask
        self.dropout, self.is_causal, self.enable_gqa = float(dropout), bool(is_causal), bool(enable_gqa)



def can_use_flash_attention(params, debug=False):
    """Whether the fused CUDA FlashAttention kernel could run ``params``: ember has no such kernel, so False, as
    PyTorch's CPU build answers (silently, even with ``debug``)."""
    return False


def can_use_efficient_attention(params, debug=False):
    """Whether the fused CUDA memory-efficient kernel could run ``params``: False, as ``can_use_flash_attention``."""
    return False


def _raise_kernel_warnings(params):
    """With ``WARN_FOR_UNFUSED_KERNELS`` set, warns that neither fused kernel takes ``params``."""
    if WARN_FOR_UNFUSED_KERNELS:
        if not can_use_efficient_attention(params):
            warnings.warn("Efficient attention can't be used because:", stacklevel=2)
            can_use_efficient_attention(params, True)
        if not can_use_flash_attention(params):
            warnings.warn("Flash attention can't be used because:", stacklevel=2)
            can_use_flash_attention(params, True)


_FLAGS = {SDPBackend.MATH: "math", SDPBackend.FLASH_ATTENTION: "flash", SDPBackend.EFFICIENT_ATTENTION: "mem_efficient",
          SDPBackend.CUDNN_ATTENTION: "cudnn", SDPBackend.OVERRIDEABLE: "overrideable"}


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Within the block, ``scaled_dot_product_attention`` may use only ``backends`` (one or a list); the previous
    choice comes back on exit. ``set_priority`` orders them, which changes nothing on the CPU."""
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend instances, got "
                             f"{type(backends).__name__}")
    chosen = {backends} if isinstance(backends, SDPBackend) else set(backends)
    previous = dict(_cuda._sdp)
    try:
        for backend, flag in _FLAGS.items():
            _cuda._sdp[flag] = backend in chosen
        yield {}
    finally:
        _cuda._sdp.update(previous)


def _get_flash_version():
    """The flash-attention release PyTorch's bundled kernel matches."""
    return "2.5.7"
