"""``backends.cuda``: the CUDA switches PyTorch programs set (``matmul.allow_tf32``); CuPy decides the math."""
from types import SimpleNamespace

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                         allow_bf16_reduced_precision_reduction=True)
"""``backends.cuda.matmul``: TF32 and reduced-precision switches (recorded, not applied)."""


def is_built():
    """True when CuPy, ember's CUDA backend, is importable."""
    from importlib.util import find_spec
    return find_spec("cupy") is not None


_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True, "overrideable": True}
"""Which scaled-dot-product-attention backends may run (``nn.attention.sdpa_kernel`` sets them). On the CPU only
``flash`` (ember's attention primitive, PyTorch's CPU flash kernel) and ``math`` apply."""


def flash_sdp_enabled():
    """Whether the flash scaled-dot-product-attention backend may run."""
    return _sdp["flash"]


def enable_flash_sdp(enabled):
    """Allows or forbids the flash scaled-dot-product-attention backend."""
    _sdp["flash"] = bool(enabled)


def mem_efficient_sdp_enabled():
    """Whether the memory-efficient scaled-dot-product-attention backend may run."""
    return _sdp["mem_efficient"]


def enable_mem_efficient_sdp(enabled):
    """Allows or forbids the memory-efficient scaled-dot-product-attention backend."""
    _sdp["mem_efficient"] = bool(enabled)


def math_sdp_enabled():
    """Whether the math (composed) scaled-dot-product-attention backend may run."""
    return _sdp["math"]


def enable_math_sdp(enabled):
    """Allows or forbids the math (composed) scaled-dot-product-attention backend."""
    _sdp["math"] = bool(enabled)


def cudnn_sdp_enabled():
    """Whether the cuDNN scaled-dot-product-attention backend may run."""
    return _sdp["cudnn"]


def enable_cudnn_sdp(enabled):
    """Allows or forbids the cuDNN scaled-dot-product-attention backend."""
    _sdp["cudnn"] = bool(enabled)
