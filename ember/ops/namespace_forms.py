"""Tensor methods PyTorch also exposes at the top level (``torch.as_strided_``, ``torch.resize_as_``,
``torch.conj_physical_``) and ``torch.is_distributed``."""
from .._tensor import Tensor
from . import resize as _resize  # noqa: F401  (installs Tensor.resize_as_)
from ._inplace import inplace_method
from .pointwise import conj_physical

__all__ = ["as_strided_", "resize_as_", "conj_physical_", "is_distributed"]

as_strided_ = Tensor.as_strided_
resize_as_ = Tensor.resize_as_
conj_physical_ = inplace_method(conj_physical, "conj_physical_")


def is_distributed(input):
    """Whether ``input`` is split across processes: never for a tensor of one process, as PyTorch answers."""
    if not isinstance(input, Tensor):
        raise TypeError(f"is_distributed(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return False
