"""``nn.attention``: which backends ``scaled_dot_product_attention`` may use (``sdpa_kernel``), as PyTorch's."""
import contextlib
import enum

from ...backends import cuda as _cuda

__all__ = ["SDPBackend", "sdpa_kernel"]


class SDPBackend(enum.IntEnum):
    """The backends of ``scaled_dot_product_attention``; on the CPU, ``FLASH_ATTENTION`` (4-D inputs, no dropout)
    and ``MATH`` apply."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


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

