"""Lightning's callbacks: checkpointing, early stopping, learning-rate and batch-size finders, learning-rate
monitoring, progress bar, model summary."""
from .callback import Callback
from .early_stopping import EarlyStopping
from .finders import BatchSizeFinder, LearningRateFinder
from .lr_monitor import LearningRateMonitor
from .model_checkpoint import ModelCheckpoint
from .model_summary import ModelSummary
from .progress import TQDMProgressBar

ProgressBar = TQDMProgressBar

__all__ = ["BatchSizeFinder", "Callback", "EarlyStopping", "LearningRateFinder", "LearningRateMonitor",
           "ModelCheckpoint", "ModelSummary", "ProgressBar", "TQDMProgressBar"]
