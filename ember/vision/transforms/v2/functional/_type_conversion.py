"""Conversions between PIL images, arrays, tensors and ``tv_tensors.Image``."""
import numpy

import ember

from ....tv_tensors import Image
from ... import functional as F1
from ._utils import is_pil_image

__all__ = ["to_image", "pil_to_tensor", "to_pil_image", "to_tensor"]

pil_to_tensor = F1.pil_to_tensor
to_pil_image = F1.to_pil_image


def to_image(inpt):
    """A tensor, (H, W[, C]) ndarray or PIL image as a ``tv_tensors.Image`` (values unscaled)."""
    if isinstance(inpt, numpy.ndarray):
        output = ember.from_numpy(numpy.atleast_3d(inpt)).permute((2, 0, 1)).contiguous()
    elif is_pil_image(inpt):
        output = pil_to_tensor(inpt)
    elif isinstance(inpt, ember.Tensor):
        output = inpt
    else:
        raise TypeError(f"Input can either be a pure Tensor, a numpy array, or a PIL image, but got {type(inpt)} "
                        "instead.")
    return Image(output)


def to_tensor(inpt):
    """v1's ``to_tensor`` (deprecated in v2: use ``to_image`` then ``to_dtype(..., scale=True)``)."""
    import warnings
    warnings.warn("The function `to_tensor(...)` is deprecated and will be removed in a future release. Instead, "
                  "please use `to_image(...)` followed by `to_dtype(..., dtype=torch.float32, scale=True)`.")
    return F1.to_tensor(inpt)
