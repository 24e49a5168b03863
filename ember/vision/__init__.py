"""``ember.vision``: torchvision's role — datasets, transforms, models and image utilities, on ember's public API."""
from . import datasets, models, transforms, utils  # noqa: F401
