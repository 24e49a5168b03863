"""Lightning's callbacks: checkpointing, early stopping, finetuning, learning-rate and batch-size finders, learning-rate
monitoring, progress bar, model summary."""
from .callback import Callback
from .early_stopping import EarlyStopping
from .finders import BatchSizeFinder, LearningRateFinder
from .finetuning import BackboneFinetuning, BaseFinetuning
from .lr_monitor import LearningRateMonitor
from .model_checkpoint import ModelCheckpoint
from .model_summary import ModelSummary
from .progress import ProgressBar, TQDMProgressBar

__all__ = ["BackboneFinetuning", "BaseFinetuning", "BatchSizeFinder", "Callback", "EarlyStopping", "LearningRateFinder",
           "LearningRateMonitor", "ModelCheckpoint", "ModelSummary", "ProgressBar", "TQDMProgressBar"]
