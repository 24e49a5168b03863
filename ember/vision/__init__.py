"""``ember.vision``: torchvision's role — datasets, transforms, models, image files (``io``) and image utilities, on
ember's public API."""
from . import datasets, io, models, transforms, utils  # noqa: F401
