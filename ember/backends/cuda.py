"""``backends.cuda``: the CUDA switches PyTorch programs set (``matmul.allow_tf32``); CuPy decides the math."""
import contextlib
import warnings
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


_reduced_math = {"allowed": False}


def allow_fp16_bf16_reduction_math_sdp(enabled):
    """Allows the math attention backend to reduce in float16/bfloat16 (recorded; ember's math reduces in float32)."""
    _reduced_math["allowed"] = bool(enabled)


def fp16_bf16_reduction_math_sdp_allowed():
    """Whether the math attention backend may reduce in float16/bfloat16."""
    return _reduced_math["allowed"]


def can_use_cudnn_attention(params, debug=False):
    """False: ember has no cuDNN attention kernel."""
    return False


def is_flash_attention_available():
    """False: ember has no fused CUDA flash-attention kernel."""
    return False


@contextlib.contextmanager
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True, enable_cudnn=True):
    """Deprecated: within the block only the enabled attention backends may run (``nn.attention.sdpa_kernel``)."""
    warnings.warn("`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this context manager will be "
                  "removed. Please see `torch.nn.attention.sdpa_kernel()` for the new context manager, with updated "
                  "signature.", FutureWarning, stacklevel=3)
    from ..nn.attention import SDPBackend, sdpa_kernel
    chosen = [backend for backend, enabled in ((SDPBackend.FLASH_ATTENTION, enable_flash),
                                               (SDPBackend.EFFICIENT_ATTENTION, enable_mem_efficient),
                                               (SDPBackend.MATH, enable_math),
                                               (SDPBackend.CUDNN_ATTENTION, enable_cudnn)) if enabled]
    with sdpa_kernel(chosen) as context:
        yield context


def __getattr__(name):
    """``SDPAParams``, ``SDPBackend`` and the ``can_use_*`` checks, from ``nn.attention`` (loaded on first use)."""
    if name in ("SDPAParams", "SDPBackend", "can_use_flash_attention", "can_use_efficient_attention"):
        from ..nn import attention
        return getattr(attention, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
