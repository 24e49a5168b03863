"""LearningRateFinder and BatchSizeFinder: callbacks that run the Tuner's searches at the start of fit."""
from .callback import Callback


class LearningRateFinder(Callback):
    """Runs the learning-rate range test at the start of fit (``optimal_lr`` holds the finder afterwards)."""

    SUPPORTED_MODES = ("linear", "exponential")

    def __init__(self, min_lr=1e-8, max_lr=1, num_training_steps=100, mode="exponential", early_stop_threshold=4.0,
                 update_attr=True, attr_name=""):
        mode = mode.lower()
        if mode not in self.SUPPORTED_MODES:
            raise ValueError(f"`mode` should be either of {self.SUPPORTED_MODES}")
        self._min_lr, self._max_lr, self._num_training_steps, self._mode = min_lr, max_lr, num_training_steps, mode
        self._early_stop_threshold, self._update_attr, self._attr_name = early_stop_threshold, update_attr, attr_name
        self._early_exit = False
        self.optimal_lr = None

    def lr_find(self, trainer, pl_module):
        """Runs the test now (override ``on_fit_start`` to run it elsewhere, e.g. at some epochs)."""
        from ..tuner.exit import TunerExit
        from ..tuner.lr_finder import lr_find
        self.optimal_lr = lr_find(trainer, pl_module, min_lr=self._min_lr, max_lr=self._max_lr,
                                  num_training=self._num_training_steps, mode=self._mode,
                                  early_stop_threshold=self._early_stop_threshold, update_attr=self._update_attr,
                                  attr_name=self._attr_name)
        if self._early_exit:
            raise TunerExit()

    def on_fit_start(self, trainer, pl_module):
        self.lr_find(trainer, pl_module)


class BatchSizeFinder(Callback):
    """Searches for the largest batch size that fits in memory at the start of fit (``optimal_batch_size``)."""

    SUPPORTED_MODES = ("power", "binsearch")

    def __init__(self, mode="power", steps_per_trial=3, init_val=2, max_trials=25, batch_arg_name="batch_size",
                 margin=0.05, max_val=8192):
        mode = mode.lower()
        if mode not in self.SUPPORTED_MODES:
            raise ValueError(f"`mode` should be either of {self.SUPPORTED_MODES}")
        if not 0.0 <= margin < 1.0:
            raise ValueError(f"`margin` should be between 0 and 1. Found margin={margin}")
        self.mode, self._steps_per_trial, self._init_val, self._max_trials = mode, steps_per_trial, init_val, max_trials
        self._batch_arg_name, self._margin, self._max_val = batch_arg_name, margin, max_val
        self._early_exit = False
        self.optimal_batch_size = init_val

    def setup(self, trainer, pl_module, stage=None):
        from ..tuner._attributes import lightning_hasattr
        if stage != "fit":
            raise ValueError(f"ember.lightning's BatchSizeFinder searches during fit, not {stage}")
        if trainer.world_size > 1:
            raise ValueError("Tuning the batch size is currently not supported with distributed strategies.")
        if not lightning_hasattr(pl_module, self._batch_arg_name):
            raise AttributeError(f"Field {self._batch_arg_name} not found in `model`, `datamodule`, nor their "
                                 "`hparams` attributes.")

    def scale_batch_size(self, trainer, pl_module):
        """Runs the search now."""
        from ..tuner.batch_size_scaling import scale_batch_size
        from ..tuner.exit import TunerExit
        if trainer._fit_sources[0] is not None:
            raise ValueError("The batch scaling feature cannot be used with dataloaders passed directly to `.fit()`. "
                             "Please disable the feature or incorporate the dataloader into your LightningModule or "
                             "LightningDataModule.")
        self.optimal_batch_size = scale_batch_size(
            trainer, mode=self.mode, steps_per_trial=self._steps_per_trial, init_val=self._init_val,
            max_trials=self._max_trials, batch_arg_name=self._batch_arg_name, margin=self._margin,
            max_val=self._max_val)
        if self._early_exit:
            raise TunerExit()

    def on_fit_start(self, trainer, pl_module):
        self.scale_batch_size(trainer, pl_module)
