"""A Lightning-compatible training loop on ember: ``import ember.lightning as pl`` runs PyTorch Lightning 2.x code
(``LightningModule``, ``LightningDataModule``, ``Trainer``, callbacks, loggers) unchanged."""
import random

from . import callbacks, loggers, strategies, tuner
from .callbacks import Callback
from .datamodule import LightningDataModule
from .module import LightningModule
from .trainer import Trainer

__version__ = "2.6.0"   # the Lightning API version this module follows


def seed_everything(seed=None, workers=False, verbose=True):
    """Seeds Python's, NumPy's and ember's random generators; returns the seed."""
    import os

    import numpy

    import ember
    if seed is None:
        seed = int(os.environ.get("PL_GLOBAL_SEED", 0))
    seed = int(seed)
    os.environ["PL_GLOBAL_SEED"] = str(seed)
    os.environ["PL_SEED_WORKERS"] = str(int(workers))
    random.seed(seed)
    numpy.random.seed(seed % 2**32)
    ember.manual_seed(seed)
    if verbose:
        print(f"Seed set to {seed}")
    return seed


__all__ = ["Callback", "LightningDataModule", "LightningModule", "Trainer", "callbacks", "loggers", "seed_everything",
           "strategies", "tuner"]
