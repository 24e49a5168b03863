"""Image transforms in torchvision.transforms' shape (v1): classes here, functional forms in ``.functional``."""
from . import functional  # noqa: F401
from .transforms import *  # noqa: F401,F403
from .transforms import __all__  # noqa: F401
