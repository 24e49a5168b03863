"""``ember.vision``: torchvision's role — datasets, transforms, models, detection operators (``ops``), image files
(``io``) and image utilities, on ember's public API."""
from . import datasets, io, models, ops, transforms, utils  # noqa: F401
