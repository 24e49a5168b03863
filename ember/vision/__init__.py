"""``ember.vision``: torchvision's role — datasets, transforms, models and image utilities, on ember's public API."""
from . import models  # noqa: F401
