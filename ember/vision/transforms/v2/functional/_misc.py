"""Normalize, blur, dtype conversion, erasing and box sanitizing."""
import ember

from ....tv_tensors import BoundingBoxes, BoundingBoxFormat, Image, Mask, Video, wrap
from ... import functional as F1
from ._meta import _check_unrotated, _convert_bounding_box_format
from ._utils import PIL_IMAGE, _dispatch, _register_kernel_internal, is_pure_tensor

__all__ = ["normalize", "gaussian_blur", "to_dtype", "convert_image_dtype", "erase", "sanitize_bounding_boxes"]


def _register(functional, kernel, *, pil=False):
    for cls in (ember.Tensor, Image, Video) + ((PIL_IMAGE,) if pil else ()):
        _register_kernel_internal(functional, cls)(kernel)


def normalize(inpt, mean, std, inplace=False):
    """(input - mean) / std per channel of a float tensor image or video."""
    return _dispatch(normalize, inpt, mean=mean, std=std, inplace=inplace)


def gaussian_blur(inpt, kernel_size, sigma=None):
    """Gaussian blur with reflect padding; ``sigma`` defaults to ``0.15 * kernel_size + 0.35``."""
    return _dispatch(gaussian_blur, inpt, kernel_size=kernel_size, sigma=sigma)


def _to_dtype_image(image, dtype=ember.float32, scale=False):
    return F1.convert_image_dtype(image, dtype) if scale else image.to(dtype)


def _to_dtype_plain(inpt, dtype=ember.float32, scale=False):
    return inpt.to(dtype)


def to_dtype(inpt, dtype=ember.float32, scale=False):
    """``inpt`` as ``dtype``; with ``scale``, images' values are rescaled between the dtypes' ranges."""
    return _dispatch(to_dtype, inpt, dtype=dtype, scale=scale)


def convert_image_dtype(image, dtype=ember.float32):
    """``to_dtype(image, dtype, scale=True)`` (v1's name)."""
    return to_dtype(image, dtype, scale=True)


def erase(inpt, i, j, h, w, v, inplace=False):
    """Overwrites the ``h`` x ``w`` window at (i, j) with ``v``."""
    return _dispatch(erase, inpt, i=i, j=j, h=h, w=w, v=v, inplace=inplace)


def _erase_mask(mask, i, j, h, w, v, inplace=False):
    return mask   # torchvision erases images and videos only; masks pass through


_register(normalize, F1.normalize)
_register(gaussian_blur, F1.gaussian_blur, pil=True)
_register(to_dtype, _to_dtype_image)
_register_kernel_internal(to_dtype, Mask)(_to_dtype_plain)
_register_kernel_internal(to_dtype, BoundingBoxes, tv_tensor_wrapper=False)(
    lambda boxes, dtype=ember.float32, scale=False: boxes.to(dtype))
_register(erase, F1.erase)


def sanitize_bounding_boxes(bounding_boxes, format=None, canvas_size=None, min_size=1.0, min_area=1.0):
    """(boxes, valid): the boxes wider and taller than ``min_size``, of area at least ``min_area``, lying inside the
    canvas, and the boolean mask choosing them."""
    if is_pure_tensor(bounding_boxes):
        if format is None or canvas_size is None:
            raise ValueError("format and canvas_size cannot be None if bounding_boxes is a pure tensor. "
                             f"Got format={format} and canvas_size={canvas_size}. Set those to appropriate values "
                             "or consider passing bounding_boxes as a tv_tensors.BoundingBoxes object.")
        if isinstance(format, str):
            format = BoundingBoxFormat[format.upper()]
        valid = _valid_boxes(bounding_boxes, format, canvas_size, min_size, min_area)
        return bounding_boxes[valid], valid
    if not isinstance(bounding_boxes, BoundingBoxes):
        raise ValueError("bounding_boxes must be a tv_tensors.BoundingBoxes instance or a pure tensor.")
    if format is not None or canvas_size is not None:
        raise ValueError("format and canvas_size must be None when bounding_boxes is a tv_tensors.BoundingBoxes. "
                         f"Got format={format} and canvas_size={canvas_size}.")
    valid = _valid_boxes(bounding_boxes.as_subclass(ember.Tensor), bounding_boxes.format,
                         bounding_boxes.canvas_size, min_size, min_area)
    return wrap(bounding_boxes.as_subclass(ember.Tensor)[valid], like=bounding_boxes), valid


def _valid_boxes(boxes, format, canvas_size, min_size, min_area):
    """Boxes at least ``min_size`` wide and tall and ``min_area`` large, every corner within the canvas."""
    _check_unrotated(format)
    xyxy = _convert_bounding_box_format(boxes, format, BoundingBoxFormat.XYXY)
    width, height = xyxy[:, 2] - xyxy[:, 0], xyxy[:, 3] - xyxy[:, 1]
    valid = (width >= min_size) & (height >= min_size) & (xyxy >= 0).all(dim=-1) & (width * height >= min_area)
    image_height, image_width = canvas_size
    valid = valid & (xyxy[:, 0] <= image_width) & (xyxy[:, 2] <= image_width)
    return valid & (xyxy[:, 1] <= image_height) & (xyxy[:, 3] <= image_height)
