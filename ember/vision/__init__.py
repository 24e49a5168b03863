"""``ember.vision``: torchvision's role — datasets, transforms (v1 and v2), tv_tensors, models, detection operators
(``ops``), image files (``io``) and image utilities, on ember's public API."""
from . import datasets, io, models, ops, transforms, tv_tensors, utils  # noqa: F401
