"""The base of progress bars (Lightning's ``ProgressBar``): totals, descriptions and the metrics shown."""
from ..callback import Callback


class ProgressBar(Callback):
    """The base of progress bars: what to count to, what to call each stage and which metrics to show."""

    def __init__(self):
        self._trainer = None
        self._current_eval_dataloader_idx = None

    @property
    def trainer(self):
        if self._trainer is None:
            raise TypeError(f"The `{self.__class__.__name__}._trainer` reference has not been set yet.")
        return self._trainer

    @property
    def sanity_check_description(self):
        return "Sanity Checking"

    @property
    def train_description(self):
        return "Training"

    @property
    def validation_description(self):
        return "Validation"

    @property
    def test_description(self):
        return "Testing"

    @property
    def predict_description(self):
        return "Predicting"

    @property
    def total_train_batches(self):
        """The training bar's total: the epoch's batches (fewer when max_steps ends training first)."""
        trainer = self.trainer
        if trainer.max_epochs == -1 and trainer.max_steps is not None and trainer.max_steps > 0:
            return min(trainer.num_training_batches, trainer.max_steps - trainer.global_step)
        return trainer.num_training_batches

    @property
    def total_val_batches_current_dataloader(self):
        trainer = self.trainer
        batches = trainer.num_sanity_val_batches if trainer.sanity_checking else trainer.num_val_batches
        return batches[self._current_eval_dataloader_idx] if isinstance(batches, list) else batches

    @property
    def total_test_batches_current_dataloader(self):
        batches = self.trainer.num_test_batches
        return batches[self._current_eval_dataloader_idx] if isinstance(batches, list) else batches

    @property
    def total_predict_batches_current_dataloader(self):
        return self.trainer.num_predict_batches[self._current_eval_dataloader_idx]

    @property
    def total_val_batches(self):
        batches = self.trainer.num_val_batches
        return sum(batches) if isinstance(batches, list) else batches

    def has_dataloader_changed(self, dataloader_idx):
        previous, self._current_eval_dataloader_idx = self._current_eval_dataloader_idx, dataloader_idx
        return previous != dataloader_idx

    def reset_dataloader_idx_tracker(self):
        self._current_eval_dataloader_idx = None

    def disable(self):
        raise NotImplementedError

    def enable(self):
        raise NotImplementedError

    def print(self, *args, **kwargs):
        """Prints without breaking the bars."""
        print(*args, **kwargs)

    def setup(self, trainer, pl_module, stage):
        self._trainer = trainer
        if not trainer.is_global_zero:
            self.disable()

    def get_metrics(self, trainer, pl_module):
        """What the bar shows: ``v_num`` (the logger's version) and the ``prog_bar`` metrics."""
        standard = get_standard_metrics(trainer)
        pbar = trainer.progress_bar_metrics
        duplicates = list(standard.keys() & pbar.keys())
        if duplicates:
            from ..utilities.rank_zero import rank_zero_warn
            rank_zero_warn(f"The progress bar already tracks a metric with the name(s) '{', '.join(duplicates)}' and "
                           f"`self.log('{duplicates[0]}', ..., prog_bar=True)` will overwrite this value.  If this is "
                           "undesired, change the name or override `get_metrics()` in the progress bar callback.")
        return {**standard, **pbar}


def get_standard_metrics(trainer):
    """``{"v_num": version}`` of the loggers (a string's last 4 characters), or nothing without a logger."""
    items = {}
    if trainer.loggers:
        loggers = trainer.loggers
        version = loggers[0].version if len(loggers) == 1 else "_".join(
            dict.fromkeys(str(logger.version) for logger in loggers))
        if version not in ("", None):
            items["v_num"] = version[-4:] if isinstance(version, str) else version
    return items
