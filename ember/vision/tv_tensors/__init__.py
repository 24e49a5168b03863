"""``ember.vision.tv_tensors``: torchvision's tensor subclasses that tell the v2 transforms what a tensor holds."""
from ._bounding_boxes import BoundingBoxes, BoundingBoxFormat, is_rotated_bounding_format
from ._image import Image, Mask, Video
from ._keypoints import KeyPoints
from ._tv_tensor import TVTensor, set_return_type

__all__ = ["TVTensor", "Image", "Video", "Mask", "BoundingBoxes", "BoundingBoxFormat", "KeyPoints",
           "is_rotated_bounding_format", "set_return_type", "wrap"]


def wrap(wrappee, *, like, **kwargs):
    """``wrappee`` (a tensor) as the TVTensor type of ``like``, with its metadata (overridden by ``kwargs``)."""
    wrap_method = getattr(type(like), "wrap", None)
    if wrap_method is not None:
        return wrap_method(wrappee, like, **kwargs)
    return wrappee.as_subclass(type(like))
