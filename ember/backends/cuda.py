"""``backends.cuda``: the CUDA switches PyTorch programs set (``matmul.allow_tf32``); CuPy decides the math."""
from types import SimpleNamespace

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                         allow_bf16_reduced_precision_reduction=True)
"""``backends.cuda.matmul``: TF32 and reduced-precision switches (recorded, not applied)."""


def is_built():
    """True when CuPy, ember's CUDA backend, is importable."""
    from importlib.util import find_spec
    return find_spec("cupy") is not None
