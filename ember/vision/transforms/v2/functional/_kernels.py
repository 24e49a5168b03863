"""The per-type kernels under torchvision's names (``resize_image``, ``crop_bounding_boxes``, ...): what the
functionals dispatch to, callable directly on plain tensors. ``*_video`` are the image kernels (they take leading
dimensions); box kernels take ``format`` and ``canvas_size`` and, where torchvision's do, also return the new canvas
size."""
import ember

from ....tv_tensors import BoundingBoxFormat
from ... import functional as F1
from . import _augment, _color, _geometry as G, _meta, _misc
from ._geometry import _check_interpolation, _on_mask
from ._meta import _format
from ._utils import _KERNEL_REGISTRY


def _boxes(format):
    return BoundingBoxFormat.XYXY if format is None else _format(format)


# --- geometry: images and videos -------------------------------------------------------------------------------
def horizontal_flip_image(image):
    """Flips a tensor image left to right."""
    return F1.hflip(image)


def vertical_flip_image(image):
    """Flips a tensor image upside down."""
    return F1.vflip(image)


def resize_image(image, size, interpolation=F1.InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resizes a tensor image (v2's sizes: ``size`` may be None with ``max_size``)."""
    return G.resize_image(image, size, _check_interpolation(interpolation), max_size, antialias)


def crop_image(image, top, left, height, width):
    """The window of a tensor image at (top, left); outside is zero."""
    return F1.crop(image, top, left, height, width)


def center_crop_image(image, output_size):
    """The central window of a tensor image."""
    return F1.center_crop(image, output_size)


def resized_crop_image(image, top, left, height, width, size, interpolation=F1.InterpolationMode.BILINEAR,
                       antialias=True):
    """Crops then resizes a tensor image."""
    return G._resized_crop_image(image, top, left, height, width, size, _check_interpolation(interpolation),
                                 antialias)


def pad_image(image, padding, fill=None, padding_mode="constant"):
    """Pads a tensor image."""
    return G._pad_image(image, padding, fill, padding_mode)


def affine_image(image, angle, translate, scale, shear, interpolation=F1.InterpolationMode.NEAREST, fill=None,
                 center=None):
    """An affine map of a tensor image."""
    return G._affine_image(image, angle, translate, scale, shear, _check_interpolation(interpolation), fill, center)


def rotate_image(image, angle, interpolation=F1.InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    """Rotates a tensor image counter-clockwise."""
    return G._rotate_image(image, angle, _check_interpolation(interpolation), expand, center, fill)


def perspective_image(image, startpoints, endpoints, interpolation=F1.InterpolationMode.BILINEAR, fill=None,
                      coefficients=None):
    """A perspective warp of a tensor image."""
    return G._perspective_image(image, startpoints, endpoints, _check_interpolation(interpolation), fill,
                                coefficients)


def elastic_image(image, displacement, interpolation=F1.InterpolationMode.BILINEAR, fill=None):
    """An elastic warp of a tensor image."""
    return G._elastic_image(image, displacement, _check_interpolation(interpolation), fill)


def five_crop_image(image, size):
    """The four corner crops and the center crop of a tensor image."""
    return F1.five_crop(image, size)


def ten_crop_image(image, size, vertical_flip=False):
    """``five_crop_image`` of the image and of its flip."""
    return F1.ten_crop(image, size, vertical_flip)


# --- geometry: masks ---------------------------------------------------------------------------------------------
horizontal_flip_mask = _on_mask(F1.hflip)
vertical_flip_mask = _on_mask(F1.vflip)
resize_mask = G.resize_mask
crop_mask = _on_mask(F1.crop)
center_crop_mask = _on_mask(F1.center_crop)


def resized_crop_mask(mask, top, left, height, width, size):
    """Crops then resizes a mask (nearest)."""
    return G._resized_crop_mask(mask, top, left, height, width, size)


def pad_mask(mask, padding, fill=None, padding_mode="constant"):
    """Pads a mask ``[..., H, W]``."""
    return _on_mask(G._pad_image)(mask, padding, fill, padding_mode)


def affine_mask(mask, angle, translate, scale, shear, fill=None, center=None):
    """An affine map of a mask (nearest)."""
    return G._affine_mask(mask, angle, translate, scale, shear, fill=fill, center=center)


def rotate_mask(mask, angle, expand=False, center=None, fill=None):
    """Rotates a mask (nearest)."""
    return G._rotate_mask(mask, angle, expand=expand, center=center, fill=fill)


def perspective_mask(mask, startpoints, endpoints, fill=None, coefficients=None):
    """A perspective warp of a mask (nearest)."""
    return G._perspective_mask(mask, startpoints, endpoints, fill=fill, coefficients=coefficients)


def elastic_mask(mask, displacement, fill=None):
    """An elastic warp of a mask (nearest)."""
    return G._elastic_mask(mask, displacement, fill=fill)


for _name in ("horizontal_flip", "vertical_flip", "crop", "center_crop"):
    globals()[f"{_name}_mask"].__name__ = globals()[f"{_name}_mask"].__qualname__ = f"{_name}_mask"
    globals()[f"{_name}_mask"].__doc__ = f"``{_name}`` of a mask ``[..., H, W]``."


# --- geometry: bounding boxes --------------------------------------------------------------------------------------
def horizontal_flip_bounding_boxes(bounding_boxes, format, canvas_size):
    """Boxes flipped left to right on their canvas."""
    return G._flip_boxes(0)(bounding_boxes, _boxes(format), canvas_size)[0]


def vertical_flip_bounding_boxes(bounding_boxes, format, canvas_size):
    """Boxes flipped upside down on their canvas."""
    return G._flip_boxes(1)(bounding_boxes, _boxes(format), canvas_size)[0]


def resize_bounding_boxes(bounding_boxes, canvas_size, size, max_size=None, format=BoundingBoxFormat.XYXY,
                          clamping_mode="soft"):
    """(boxes, canvas_size) after resizing their canvas."""
    return G._resize_boxes(bounding_boxes, _boxes(format), canvas_size, size, max_size=max_size,
                           clamping_mode=clamping_mode)


def crop_bounding_boxes(bounding_boxes, format, top, left, height, width, clamping_mode="soft"):
    """(boxes, canvas_size) in the window at (top, left), clamped to it."""
    return G._crop_boxes(bounding_boxes, _boxes(format), None, top, left, height, width, clamping_mode)


def center_crop_bounding_boxes(bounding_boxes, format, canvas_size, output_size, clamping_mode="soft"):
    """(boxes, canvas_size) in the central window."""
    return G._center_crop_boxes(bounding_boxes, _boxes(format), canvas_size, output_size, clamping_mode)


def resized_crop_bounding_boxes(bounding_boxes, format, top, left, height, width, size, clamping_mode="soft"):
    """(boxes, canvas_size) after a crop and a resize."""
    return G._resized_crop_boxes(bounding_boxes, _boxes(format), None, top, left, height, width, size,
                                 clamping_mode=clamping_mode)


def pad_bounding_boxes(bounding_boxes, format, canvas_size, padding, padding_mode="constant", clamping_mode="soft"):
    """(boxes, canvas_size) on the padded canvas."""
    return G._pad_boxes(bounding_boxes, _boxes(format), canvas_size, padding, padding_mode=padding_mode,
                        clamping_mode=clamping_mode)


def affine_bounding_boxes(bounding_boxes, format, canvas_size, angle, translate, scale, shear, center=None,
                          clamping_mode="soft"):
    """Boxes enclosing their mapped corners, clamped."""
    return G._affine_boxes(bounding_boxes, _boxes(format), canvas_size, angle, translate, scale, shear,
                           center=center, clamping_mode=clamping_mode)[0]


def rotate_bounding_boxes(bounding_boxes, format, canvas_size, angle, expand=False, center=None,
                          clamping_mode="soft"):
    """(boxes, canvas_size) enclosing the rotated corners (the canvas grows with ``expand``)."""
    return G._rotate_boxes(bounding_boxes, _boxes(format), canvas_size, angle, expand=expand, center=center,
                           clamping_mode=clamping_mode)


def perspective_bounding_boxes(bounding_boxes, format, canvas_size, startpoints, endpoints, coefficients=None,
                               clamping_mode="soft"):
    """Boxes enclosing their corners mapped by the perspective warp, clamped."""
    return G._perspective_boxes(bounding_boxes, _boxes(format), canvas_size, startpoints, endpoints,
                                coefficients=coefficients, clamping_mode=clamping_mode)[0]


def elastic_bounding_boxes(bounding_boxes, format, canvas_size, displacement, clamping_mode="soft"):
    """Boxes enclosing their corners moved by the elastic field, clamped."""
    return G._elastic_boxes(bounding_boxes, _boxes(format), canvas_size, displacement,
                            clamping_mode=clamping_mode)[0]


# --- color, misc, meta, temporal -----------------------------------------------------------------------------------
def _tensor_kernel(functional):
    return _KERNEL_REGISTRY[functional][ember.Tensor]


_IMAGE_KERNELS = {
    "adjust_brightness": _color.adjust_brightness, "adjust_contrast": _color.adjust_contrast,
    "adjust_saturation": _color.adjust_saturation, "adjust_hue": _color.adjust_hue,
    "adjust_gamma": _color.adjust_gamma, "adjust_sharpness": _color.adjust_sharpness,
    "autocontrast": _color.autocontrast, "equalize": _color.equalize, "invert": _color.invert,
    "posterize": _color.posterize, "solarize": _color.solarize, "permute_channels": _color.permute_channels,
    "rgb_to_grayscale": _color.rgb_to_grayscale, "grayscale_to_rgb": _color.grayscale_to_rgb,
    "normalize": _misc.normalize, "gaussian_blur": _misc.gaussian_blur, "to_dtype": _misc.to_dtype,
    "erase": _misc.erase, "gaussian_noise": _augment.gaussian_noise, "jpeg": _augment.jpeg,
    "get_dimensions": _meta.get_dimensions, "get_num_channels": _meta.get_num_channels,
    "get_size": _meta.get_size,
}
for _name, _functional in _IMAGE_KERNELS.items():
    globals()[f"{_name}_image"] = _tensor_kernel(_functional)
    if _name not in ("rgb_to_grayscale", "grayscale_to_rgb"):
        globals()[f"{_name}_video"] = _tensor_kernel(_functional)
horizontal_flip_video, vertical_flip_video, resize_video, crop_video = (
    horizontal_flip_image, vertical_flip_image, resize_image, crop_image)
center_crop_video, resized_crop_video, pad_video, affine_video = (
    center_crop_image, resized_crop_image, pad_image, affine_image)
rotate_video, perspective_video, elastic_video, five_crop_video, ten_crop_video = (
    rotate_image, perspective_image, elastic_image, five_crop_image, ten_crop_image)
get_size_mask = _meta.get_size_mask
uniform_temporal_subsample_video = _augment.uniform_temporal_subsample_video


def get_size_bounding_boxes(bounding_box):
    """[height, width] of the boxes' canvas."""
    return list(bounding_box.canvas_size)


def get_num_frames_video(video):
    """The number of frames of a (..., T, C, H, W) video."""
    return video.shape[-4]


def get_num_frames(inpt):
    """The number of frames of a video."""
    return get_num_frames_video(inpt)


def get_image_size(inpt):
    """[width, height] (v1's order; deprecated in favor of ``get_size``)."""
    return list(reversed(_meta.get_size(inpt)))


get_image_num_channels = _meta.get_num_channels
__all__ = [name for name in globals() if not name.startswith("_") and name.endswith(
    ("_image", "_video", "_mask", "_bounding_boxes"))] + ["get_num_frames", "get_image_size",
                                                          "get_image_num_channels"]
