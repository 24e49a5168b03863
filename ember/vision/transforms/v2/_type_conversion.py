"""Conversions between PIL images, arrays, plain tensors and tv_tensors as transforms."""
import warnings

import numpy

import ember

from ...tv_tensors import Image, TVTensor
from .. import functional as F1
from . import functional as F
from .functional._utils import is_pil_image, is_pure_tensor
from ._transform import Transform

__all__ = ["PILToTensor", "ToImage", "ToPILImage", "ToPureTensor", "ToTensor"]


def _is_ndarray(inpt):
    return isinstance(inpt, numpy.ndarray)


class PILToTensor(Transform):
    """PIL images to (C, H, W) tensors of their own dtype (no scaling)."""

    _transformed_types = (is_pil_image,)

    def transform(self, inpt, params):
        return F.pil_to_tensor(inpt)


class ToImage(Transform):
    """Tensors, ndarrays and PIL images to ``tv_tensors.Image`` (no scaling)."""

    _transformed_types = (is_pure_tensor, is_pil_image, _is_ndarray)

    def transform(self, inpt, params):
        return F.to_image(inpt)


class ToPILImage(Transform):
    """Tensors and ndarrays to PIL images (``mode`` as v1's ``to_pil_image``)."""

    _transformed_types = (is_pure_tensor, Image, _is_ndarray)

    def __init__(self, mode=None):
        super().__init__()
        self.mode = mode

    def transform(self, inpt, params):
        return F.to_pil_image(inpt, mode=self.mode)


class ToPureTensor(Transform):
    """TVTensors to plain tensors, dropping their metadata."""

    _transformed_types = (TVTensor,)

    def transform(self, inpt, params):
        return inpt.as_subclass(ember.Tensor)


class ToTensor(Transform):
    """Deprecated: PIL images and ndarrays to float tensors in [0, 1] (v1's ``to_tensor``)."""

    _transformed_types = (is_pil_image, _is_ndarray)

    def __init__(self):
        warnings.warn("The transform `ToTensor()` is deprecated and will be removed in a future release. Instead, "
                      "please use `v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])`.Output is "
                      "equivalent up to float precision.")
        super().__init__()

    def transform(self, inpt, params):
        return F1.to_tensor(inpt)
