"""``torch.masked``: reductions and normalizations that skip the elements a boolean ``mask`` leaves out (strided
tensors; PyTorch's prototype MaskedTensor is not provided)."""
from ._ops import *  # noqa: F401,F403
from ._ops import __all__  # noqa: F401
