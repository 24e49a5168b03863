"""``BoundingBoxes`` and their coordinate formats."""
from enum import Enum

import ember

from ._tv_tensor import TVTensor


class BoundingBoxFormat(Enum):
    """Box coordinates: corners (XYXY), corner and size (XYWH), center and size (CXCYWH); the rotated XYWHR and
    CXCYWHR (angle in degrees last) and XYXYXYXY (the four corners)."""

    XYXY = "XYXY"
    XYWH = "XYWH"
    CXCYWH = "CXCYWH"
    XYWHR = "XYWHR"
    CXCYWHR = "CXCYWHR"
    XYXYXYXY = "XYXYXYXY"


def is_rotated_bounding_format(format):
    """True for the rotated formats (XYWHR, CXCYWHR, XYXYXYXY)."""
    if isinstance(format, BoundingBoxFormat):
        return format in (BoundingBoxFormat.XYWHR, BoundingBoxFormat.CXCYWHR, BoundingBoxFormat.XYXYXYXY)
    if isinstance(format, str):
        return format in ("XYWHR", "CXCYWHR", "XYXYXYXY")
    raise ValueError(f"format should be str or BoundingBoxFormat, got {type(format)}")


def _first_boxes(args):
    for arg in args:
        if isinstance(arg, BoundingBoxes):
            return arg
        if isinstance(arg, (tuple, list)):
            found = _first_boxes(arg)
            if found is not None:
                return found
    return None


class BoundingBoxes(TVTensor):
    """Boxes of shape ``[N, K]`` (K = 4, or 5/8 for rotated formats) on an image of ``canvas_size`` = (H, W).

    ``clamping_mode`` ("soft", "hard" or None) says how transforms clamp boxes that leave the canvas.
    """

    @classmethod
    def _wrap(cls, tensor, *, format, canvas_size, clamping_mode="soft", check_dims=True):
        if check_dims:
            if tensor.ndim == 1:
                tensor = tensor.unsqueeze(0)
            elif tensor.ndim != 2:
                raise ValueError(f"Expected a 1D or 2D tensor, got {tensor.ndim}D")
        if clamping_mode is not None and clamping_mode not in ("hard", "soft"):
            raise ValueError(f"clamping_mode must be None, hard or soft, got {clamping_mode}.")
        if isinstance(format, str):
            format = BoundingBoxFormat[format.upper()]
        boxes = tensor.as_subclass(cls)
        boxes.format = format
        boxes.canvas_size = canvas_size
        boxes.clamping_mode = clamping_mode
        return boxes

    @classmethod
    def wrap(cls, tensor, like, **kwargs):
        """``tensor`` as boxes with ``like``'s format, canvas size and clamping mode, unless ``kwargs`` set them."""
        return cls._wrap(tensor, format=kwargs.get("format", like.format),
                         canvas_size=kwargs.get("canvas_size", like.canvas_size),
                         clamping_mode=kwargs.get("clamping_mode", like.clamping_mode))

    def __new__(cls, data, *, format, canvas_size, clamping_mode="soft", dtype=None, device=None,
                requires_grad=None):
        tensor = cls._to_tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
        if not ember.is_floating_point(tensor) and is_rotated_bounding_format(format):
            raise ValueError(f"Rotated bounding boxes should be floating point tensors, got {tensor.dtype}.")
        return cls._wrap(tensor, format=format, canvas_size=canvas_size, clamping_mode=clamping_mode)

    @classmethod
    def _wrap_output(cls, output, args):
        like = _first_boxes(args)
        if isinstance(output, ember.Tensor) and not isinstance(output, BoundingBoxes):
            return cls._wrap(output, format=like.format, canvas_size=like.canvas_size,
                             clamping_mode=like.clamping_mode, check_dims=False)
        if isinstance(output, (tuple, list)):
            return type(output)(cls._wrap_output(part, args) for part in output)
        return output

    def __repr__(self):
        return self._make_repr(format=self.format, canvas_size=self.canvas_size, clamping_mode=self.clamping_mode)
