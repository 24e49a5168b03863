"""Bounding-box format conversion and clamping as transforms."""
from ...tv_tensors import BoundingBoxes, BoundingBoxFormat, KeyPoints
from . import functional as F
from ._transform import Transform

__all__ = ["ConvertBoundingBoxFormat", "ClampBoundingBoxes", "SetClampingMode", "ClampKeyPoints"]


class ConvertBoundingBoxFormat(Transform):
    """Converts BoundingBoxes to ``format`` (a BoundingBoxFormat or its name)."""

    _transformed_types = (BoundingBoxes,)

    def __init__(self, format):
        super().__init__()
        self.format = BoundingBoxFormat[format.upper()] if isinstance(format, str) else format

    def transform(self, inpt, params):
        return F.convert_bounding_box_format(inpt, new_format=self.format)


class ClampBoundingBoxes(Transform):
    """Clamps BoundingBoxes to their canvas (``clamping_mode`` "auto" takes each box tensor's own)."""

    _transformed_types = (BoundingBoxes,)

    def __init__(self, clamping_mode="auto"):
        super().__init__()
        self.clamping_mode = clamping_mode

    def transform(self, inpt, params):
        return F.clamp_bounding_boxes(inpt, clamping_mode=self.clamping_mode)


class SetClampingMode(Transform):
    """BoundingBoxes copied with ``clamping_mode`` ("soft", "hard" or None) for the transforms that follow."""

    _transformed_types = (BoundingBoxes,)

    def __init__(self, clamping_mode):
        super().__init__()
        if clamping_mode not in (None, "soft", "hard"):
            raise ValueError(f"clamping_mode must be soft, hard or None, got {clamping_mode}")
        self.clamping_mode = clamping_mode

    def transform(self, inpt, params):
        out = inpt.clone()
        out.clamping_mode = self.clamping_mode
        return out


class ClampKeyPoints(Transform):
    """Clamps KeyPoints to their canvas' pixel indices."""

    _transformed_types = (KeyPoints,)

    def transform(self, inpt, params):
        return F.clamp_keypoints(inpt)
