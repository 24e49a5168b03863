"""``torch.masked``: reductions and normalizations that skip the elements a boolean ``mask`` leaves out (strided
tensors), and the prototype ``MaskedTensor`` (strided data) with ``masked_tensor``/``as_masked_tensor``."""
from ._ops import *  # noqa: F401,F403
from ._ops import __all__ as _ops_all
from .maskedtensor import MaskedTensor, as_masked_tensor, is_masked_tensor, masked_tensor  # noqa: F401

__all__ = sorted(_ops_all + ["MaskedTensor", "as_masked_tensor", "is_masked_tensor", "masked_tensor"])
