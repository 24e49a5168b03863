"""A Lightning-compatible training loop on ember: ``import ember.lightning as pl`` runs PyTorch Lightning 2.x code
(``LightningModule``, ``LightningDataModule``, ``Trainer``, callbacks, loggers) unchanged."""
import logging
import warnings

from .utilities import warnings as _warnings

# Lightning's messages (device info, fit stopped, checkpoints restored, the model summary) go to this logger at INFO,
# to stderr through its own handler unless the root logger has one; warnings raised from inside Lightning print as
# "file:line: message"
_logger = logging.getLogger(__name__)
_logger.setLevel(logging.INFO)
if not logging.getLogger().hasHandlers():
    _logger.addHandler(logging.StreamHandler())
    _logger.propagate = False
warnings.formatwarning = _warnings._custom_format_warning

from . import callbacks, loggers, strategies, tuner, utilities  # noqa: E402
from .callbacks import Callback  # noqa: E402
from .datamodule import LightningDataModule  # noqa: E402
from .module import LightningModule  # noqa: E402
from .trainer import Trainer  # noqa: E402
from .utilities.seed import seed_everything  # noqa: E402

__version__ = "2.6.0"   # the Lightning API version this module follows


__all__ = ["Callback", "LightningDataModule", "LightningModule", "Trainer", "callbacks", "loggers", "seed_everything",
           "strategies", "tuner", "utilities"]
