"""Lightning's callbacks: checkpointing, early stopping, learning-rate monitoring, progress bar, model summary."""
from .callback import Callback
from .early_stopping import EarlyStopping
from .lr_monitor import LearningRateMonitor
from .model_checkpoint import ModelCheckpoint
from .model_summary import ModelSummary
from .progress import TQDMProgressBar

ProgressBar = TQDMProgressBar

__all__ = ["Callback", "EarlyStopping", "LearningRateMonitor", "ModelCheckpoint", "ModelSummary", "ProgressBar",
           "TQDMProgressBar"]
