"""Lightning's callbacks: checkpointing (also on exceptions), early stopping, finetuning, learning-rate and batch-size
finders, learning-rate, device-statistics and throughput monitoring, gradient-accumulation schedules, stochastic and
exponential weight averaging, timing, loss-spike detection, prediction writing, pruning, callbacks made from
functions, progress bars (tqdm's and rich's), model summary (also drawn by rich)."""
from .callback import Callback
from .checkpoint import Checkpoint
from .device_stats_monitor import DeviceStatsMonitor
from .early_stopping import EarlyStopping
from .finders import BatchSizeFinder, LearningRateFinder
from .finetuning import BackboneFinetuning, BaseFinetuning
from .gradient_accumulation_scheduler import GradientAccumulationScheduler
from .lambda_function import LambdaCallback
from .lr_monitor import LearningRateMonitor
from .model_checkpoint import ModelCheckpoint
from .model_summary import ModelSummary
from .on_exception_checkpoint import OnExceptionCheckpoint
from .prediction_writer import BasePredictionWriter
from .progress import ProgressBar, RichProgressBar, TQDMProgressBar
from .pruning import ModelPruning
from .rich_model_summary import RichModelSummary
from .spike import SpikeDetection
from .stochastic_weight_avg import StochasticWeightAveraging
from .throughput_monitor import ThroughputMonitor
from .timer import Timer
from .weight_averaging import EMAWeightAveraging, WeightAveraging

__all__ = ["BackboneFinetuning", "BaseFinetuning", "BasePredictionWriter", "BatchSizeFinder", "Callback", "Checkpoint",
           "DeviceStatsMonitor", "EMAWeightAveraging", "EarlyStopping", "GradientAccumulationScheduler",
           "LambdaCallback", "LearningRateFinder", "LearningRateMonitor", "ModelCheckpoint", "ModelPruning",
           "ModelSummary", "OnExceptionCheckpoint", "ProgressBar", "RichModelSummary", "RichProgressBar",
           "SpikeDetection", "StochasticWeightAveraging", "TQDMProgressBar", "ThroughputMonitor", "Timer",
           "WeightAveraging"]
