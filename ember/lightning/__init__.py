"""A Lightning-compatible training loop on ember: ``import ember.lightning as pl`` runs PyTorch Lightning 2.x code
(``LightningModule``, ``LightningDataModule``, ``Trainer``, callbacks, loggers) unchanged."""
import logging
import os
import warnings

from .utilities import rank_zero as _rank_zero
from .utilities import warnings as _warnings

# Lightning's messages (device info, fit stopped, checkpoints restored, the model summary) go to this logger at INFO,
# to stderr through its own handler unless the root logger has one; warnings raised from inside Lightning print as
# "file:line: message"; its deprecation warnings are shown
_logger = logging.getLogger(__name__)
_logger.setLevel(logging.INFO)
if not logging.getLogger().hasHandlers():
    _logger.addHandler(logging.StreamHandler())
    _logger.propagate = False
warnings.formatwarning = _warnings._custom_format_warning
warnings.simplefilter("default", category=_rank_zero.LightningDeprecationWarning)   # shown, as Lightning shows them

from . import callbacks, core, loggers, strategies, tuner, utilities  # noqa: E402
from .callbacks import Callback  # noqa: E402
from .datamodule import LightningDataModule  # noqa: E402
from .module import LightningModule  # noqa: E402
from .trainer import Trainer  # noqa: E402
from .utilities.seed import seed_everything  # noqa: E402

__version__ = "2.6.6"   # the Lightning API version this module follows


def cli_lightning_logo():
    """Prints a banner between empty lines, in magenta, where Lightning's command-line examples print its logo (the
    logo itself is Lightning's artwork and is not copied here)."""
    print()
    print("\033[0;35m\n" + "ember.lightning: PyTorch Lightning's API on ember" + "\n\033[0m")
    print()


if os.environ.get("POSSIBLE_USER_WARNINGS", "").lower() in ("0", "off"):
    _warnings.disable_possible_user_warnings()

__all__ = ["Callback", "LightningDataModule", "LightningModule", "Trainer", "callbacks", "cli_lightning_logo", "core",
           "loggers", "seed_everything", "strategies", "tuner", "utilities"]
