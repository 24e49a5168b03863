"""``torch.masked.maskedtensor``: the MaskedTensor class, its creation functions and its op rules."""
from .core import MaskedTensor, is_masked_tensor
from .creation import as_masked_tensor, masked_tensor

__all__ = ["MaskedTensor", "as_masked_tensor", "is_masked_tensor", "masked_tensor"]
