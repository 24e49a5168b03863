"""Sizes of inputs, and bounding-box format conversion and clamping."""
import math

import ember

from ....tv_tensors import BoundingBoxes, BoundingBoxFormat, Image, Mask, Video, is_rotated_bounding_format, wrap
from ... import functional as F1
from ._utils import PIL_IMAGE, _get_kernel, _register_kernel_internal, is_pure_tensor


def get_dimensions(inpt):
    """[channels, height, width] of an image or video."""
    return _get_kernel(get_dimensions, type(inpt))(inpt)


def get_num_channels(inpt):
    """The number of channels of an image or video."""
    return _get_kernel(get_num_channels, type(inpt))(inpt)


def get_size(inpt):
    """[height, width] of an image, video, mask or the canvas of bounding boxes."""
    return _get_kernel(get_size, type(inpt))(inpt)


def get_dimensions_image(image):
    """[channels, height, width] of a tensor image ``[..., C, H, W]``."""
    if image.ndim < 2:
        raise TypeError(f"Input tensor should have at least two dimensions, but got {image.ndim}")
    if image.ndim == 2:
        return [1, *image.shape]
    return list(image.shape[-3:])


def get_size_image(image):
    """[height, width] of a tensor image."""
    return get_dimensions_image(image)[1:]


def get_size_mask(mask):
    """[height, width] of a mask ``[..., H, W]``."""
    return list(mask.shape[-2:])


def _get_size_bounding_boxes(boxes):
    return list(boxes.canvas_size)


for _cls in (ember.Tensor, Image, Video):
    _register_kernel_internal(get_dimensions, _cls, tv_tensor_wrapper=False)(get_dimensions_image)
    _register_kernel_internal(get_num_channels, _cls, tv_tensor_wrapper=False)(
        lambda image: get_dimensions_image(image)[0])
    _register_kernel_internal(get_size, _cls, tv_tensor_wrapper=False)(get_size_image)
_register_kernel_internal(get_dimensions, PIL_IMAGE)(F1.get_dimensions)
_register_kernel_internal(get_num_channels, PIL_IMAGE)(lambda image: F1.get_dimensions(image)[0])
_register_kernel_internal(get_size, PIL_IMAGE)(lambda image: F1.get_dimensions(image)[1:])
_register_kernel_internal(get_size, Mask, tv_tensor_wrapper=False)(get_size_mask)
_register_kernel_internal(get_size, BoundingBoxes, tv_tensor_wrapper=False)(_get_size_bounding_boxes)


def _check_unrotated(format):
    if is_rotated_bounding_format(format):   # converting between rotated formats works; moving them does not yet
        raise ValueError(f"ember's v2 transforms handle unrotated bounding boxes only, got format {format.name}.")


def _to_xyxy(boxes, format):
    a, b, c, d = boxes.unbind(-1)
    if format is BoundingBoxFormat.XYWH:
        return ember.stack([a, b, a + c, b + d], dim=-1)
    if format is BoundingBoxFormat.CXCYWH:   # in float, then truncated back for integer boxes (torchvision's)
        half_w, half_h = c / 2, d / 2
        return ember.stack([a - half_w, b - half_h, a + half_w, b + half_h], dim=-1).to(boxes.dtype)
    return boxes.clone()


def _from_xyxy(boxes, format):
    x1, y1, x2, y2 = boxes.unbind(-1)
    if format is BoundingBoxFormat.XYWH:
        return ember.stack([x1, y1, x2 - x1, y2 - y1], dim=-1)
    if format is BoundingBoxFormat.CXCYWH:
        rounding_mode = None if boxes.is_floating_point() else "floor"
        center_x = (x1 + x2).div(2, rounding_mode=rounding_mode)
        center_y = (y1 + y2).div(2, rounding_mode=rounding_mode)
        return ember.stack([center_x, center_y, x2 - x1, y2 - y1], dim=-1)
    return boxes


def _rotated_to_xywhr(boxes, format):
    """Rotated boxes as (x1, y1, w, h, angle): the first corner, the sides and the angle in degrees
    (counter-clockwise on screen, y pointing down)."""
    if format is BoundingBoxFormat.XYWHR:
        return boxes.clone()
    if format is BoundingBoxFormat.CXCYWHR:
        cx, cy, w, h, angle = boxes.unbind(-1)
        radians = angle * (math.pi / 180.0)
        cos, sin = radians.cos(), radians.sin()
        half_w, half_h = w.div(-2).abs(), h.div(-2).abs()
        return ember.stack([cx - half_w * cos - half_h * sin, cy + half_w * sin - half_h * cos, w, h, angle], dim=-1)
    corners = boxes if boxes.dtype in (ember.float32, ember.float64) else boxes.float()
    x1, y1, x2, y2, x3, y3 = corners.unbind(-1)[:6]
    angle = ember.atan2(y1 - y2, x2 - x1) * (180.0 / math.pi)
    width = ((x2 - x1) ** 2 + (y2 - y1) ** 2).sqrt()
    height = ((x3 - x2) ** 2 + (y3 - y2) ** 2).sqrt()
    return ember.stack([x1, y1, width, height, angle], dim=-1).to(boxes.dtype)


def _xywhr_to_rotated(boxes, format):
    if format is BoundingBoxFormat.XYWHR:
        return boxes
    x1, y1, w, h, angle = boxes.unbind(-1)
    radians = angle * (math.pi / 180.0)
    cos, sin = radians.cos(), radians.sin()
    if format is BoundingBoxFormat.CXCYWHR:
        half_w, half_h = w.div(-2).abs(), h.div(-2).abs()
        return ember.stack([x1 + half_w * cos + half_h * sin, y1 - half_w * sin + half_h * cos, w, h, angle], dim=-1)
    return ember.stack([x1, y1, x1 + w * cos, y1 - w * sin, x1 + w * cos + h * sin, y1 - w * sin + h * cos,
                        x1 + h * sin, y1 + h * cos], dim=-1)


def _convert_bounding_box_format(boxes, old_format, new_format):
    if new_format == old_format:
        return boxes
    if is_rotated_bounding_format(old_format) ^ is_rotated_bounding_format(new_format):
        raise ValueError("Cannot convert between rotated and unrotated bounding boxes.")
    if is_rotated_bounding_format(old_format):
        return _xywhr_to_rotated(_rotated_to_xywhr(boxes, old_format), new_format)
    if old_format is BoundingBoxFormat.XYWH and new_format is BoundingBoxFormat.CXCYWH:
        x, y, w, h = boxes.unbind(-1)
        rounding_mode = None if boxes.is_floating_point() else "floor"
        return ember.stack([x + w.div(2, rounding_mode=rounding_mode), y + h.div(2, rounding_mode=rounding_mode),
                            w, h], dim=-1)
    return _from_xyxy(_to_xyxy(boxes, old_format), new_format)   # integer CXCYWH: through truncated corners


def _format(format):
    return BoundingBoxFormat[format.upper()] if isinstance(format, str) else format


def convert_bounding_box_format(inpt, old_format=None, new_format=None, inplace=False):
    """Boxes in ``new_format``; ``old_format`` is given for pure tensors and taken from BoundingBoxes."""
    if new_format is None:
        raise TypeError("convert_bounding_box_format() missing 1 required argument: 'new_format'")
    old_format, new_format = _format(old_format), _format(new_format)
    if is_pure_tensor(inpt):
        if old_format is None:
            raise ValueError("For pure tensor inputs, `old_format` has to be passed.")
        output = _convert_bounding_box_format(inpt, old_format, new_format)
    elif isinstance(inpt, BoundingBoxes):
        if old_format is not None:
            raise ValueError("For bounding box tv_tensor inputs, `old_format` must not be passed.")
        output = wrap(_convert_bounding_box_format(inpt.as_subclass(ember.Tensor), inpt.format, new_format),
                      like=inpt, format=new_format)
    else:
        raise TypeError(f"Input can either be a plain tensor or a bounding box tv_tensor, but got {type(inpt)} "
                        "instead.")
    if inplace and output is not inpt:
        inpt.copy_(output)
        return inpt if is_pure_tensor(inpt) else output
    return output


def _clamp_bounding_boxes(boxes, format, canvas_size, clamping_mode):
    if clamping_mode is None:
        return boxes.clone()
    _check_unrotated(format)
    in_dtype = boxes.dtype
    xyxy = _to_xyxy(boxes if boxes.is_floating_point() else boxes.float(), format)
    x1, y1, x2, y2 = xyxy.unbind(-1)
    height, width = canvas_size
    xyxy = ember.stack([x1.clamp(0, width), y1.clamp(0, height), x2.clamp(0, width), y2.clamp(0, height)], dim=-1)
    return _from_xyxy(xyxy, format).to(in_dtype)


def clamp_bounding_boxes(inpt, format=None, canvas_size=None, clamping_mode="auto"):
    """Boxes clamped to their canvas (hard and soft modes agree for unrotated boxes; None leaves them)."""
    if clamping_mode is not None and clamping_mode not in ("soft", "hard", "auto"):
        raise ValueError(f"clamping_mode must be soft, hard, auto or None, got {clamping_mode}")
    format = _format(format)
    if is_pure_tensor(inpt):
        if format is None or canvas_size is None or clamping_mode == "auto":
            raise ValueError("For pure tensor inputs, `format`, `canvas_size` and `clamping_mode` have to be passed.")
        return _clamp_bounding_boxes(inpt, format, canvas_size, clamping_mode)
    if isinstance(inpt, BoundingBoxes):
        if format is not None or canvas_size is not None:
            raise ValueError("For bounding box tv_tensor inputs, `format` and `canvas_size` must not be passed.")
        if clamping_mode == "auto":
            clamping_mode = inpt.clamping_mode
        output = _clamp_bounding_boxes(inpt.as_subclass(ember.Tensor), inpt.format, inpt.canvas_size, clamping_mode)
        return wrap(output, like=inpt)
    raise TypeError(f"Input can either be a plain tensor or a bounding box tv_tensor, but got {type(inpt)} instead.")
