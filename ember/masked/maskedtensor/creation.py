"""``masked_tensor`` (a new leaf, as ``torch.tensor``) and ``as_masked_tensor`` (keeps the data's autograd history,
as ``torch.as_tensor``)."""
from ._ops_refs import as_masked_tensor
from .core import MaskedTensor

__all__ = ["as_masked_tensor", "masked_tensor"]


def masked_tensor(data, mask, requires_grad=False):
    """A MaskedTensor holding a copy of ``data`` and ``mask``, a leaf requiring grad as asked."""
    return MaskedTensor(data, mask, requires_grad)
