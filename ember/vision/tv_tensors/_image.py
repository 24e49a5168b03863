"""``Image``, ``Video`` and ``Mask``: TVTensors of pixels."""
import sys

from ._tv_tensor import TVTensor


def _from_pil(data):
    pil = sys.modules.get("PIL.Image")
    if pil is not None and isinstance(data, pil.Image):
        from ..transforms.functional import pil_to_tensor
        return pil_to_tensor(data)
    return data


class Image(TVTensor):
    """An image tensor of shape ``[..., C, H, W]`` (a 2-d input gains a channel dimension); accepts PIL images."""

    def __new__(cls, data, *, dtype=None, device=None, requires_grad=None):
        tensor = cls._to_tensor(_from_pil(data), dtype=dtype, device=device, requires_grad=requires_grad)
        if tensor.ndim < 2:
            raise ValueError(f"Tensor must be 2D or higher, got {tensor.ndim}D tensor.")
        if tensor.ndim == 2:
            tensor = tensor.unsqueeze(0)
        return tensor.as_subclass(cls)

    def __repr__(self):
        return self._make_repr()


class Video(TVTensor):
    """A video tensor of shape ``[..., T, C, H, W]``."""

    def __new__(cls, data, *, dtype=None, device=None, requires_grad=None):
        tensor = cls._to_tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
        if tensor.ndim < 4:
            raise ValueError(f"Video must be 4D or higher, got {tensor.ndim}D tensor.")
        return tensor.as_subclass(cls)

    def __repr__(self):
        return self._make_repr()


class Mask(TVTensor):
    """A segmentation or detection mask of shape ``[..., H, W]``; accepts PIL images."""

    def __new__(cls, data, *, dtype=None, device=None, requires_grad=None):
        tensor = cls._to_tensor(_from_pil(data), dtype=dtype, device=device, requires_grad=requires_grad)
        return tensor.as_subclass(cls)
