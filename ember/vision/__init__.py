"""``ember.vision``: torchvision's role — datasets, transforms (v1 and v2), tv_tensors, models, detection operators
(``ops``), image and video files (``io``) and image utilities, on ember's public API."""
from . import datasets, io, models, ops, transforms, tv_tensors, utils  # noqa: F401

_video_backend = "pyav"


def set_video_backend(backend):
    """Accepted for torchvision's API; videos are always decoded with PyAV, as in torchvision 0.28 (a no-op)."""


def get_video_backend():
    """The package that decodes videos: ``"pyav"``."""
    return _video_backend
