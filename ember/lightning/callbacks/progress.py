"""TQDMProgressBar: a tqdm bar per training epoch (with the ``prog_bar`` metrics) and per validation run."""
import sys

from .callback import Callback


class TQDMProgressBar(Callback):
    """Shows training and validation progress with tqdm (an optional extra); silent without it."""

    def __init__(self, refresh_rate=1, leave=False):
        self.refresh_rate, self.leave = refresh_rate, leave
        self.train_progress_bar = self.val_progress_bar = None

    @staticmethod
    def _tqdm(**kwargs):
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return None
        return tqdm(file=sys.stderr, dynamic_ncols=True, **kwargs)

    def get_metrics(self, trainer, pl_module):
        """What the bar shows: the ``prog_bar`` metrics and the logger's version as ``v_num``."""
        metrics = {name: f"{float(value):.3g}" for name, value in trainer.progress_bar_metrics.items()}
        if trainer.logger is not None and trainer.logger.version is not None:
            metrics["v_num"] = trainer.logger.version
        return metrics

    def on_train_epoch_start(self, trainer, pl_module):
        self.train_progress_bar = self._tqdm(total=trainer.num_training_batches, desc=f"Epoch {trainer.current_epoch}",
                                             leave=True,
                                             disable=self.refresh_rate == 0 or not trainer.is_global_zero)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if self.train_progress_bar is not None and (batch_idx + 1) % max(self.refresh_rate, 1) == 0:
            self.train_progress_bar.update(batch_idx + 1 - self.train_progress_bar.n)
            self.train_progress_bar.set_postfix(self.get_metrics(trainer, pl_module))

    def on_train_epoch_end(self, trainer, pl_module):
        if self.train_progress_bar is not None:
            self.train_progress_bar.set_postfix(self.get_metrics(trainer, pl_module))
            self.train_progress_bar.close()
            self.train_progress_bar = None

    def on_validation_start(self, trainer, pl_module):
        self.val_progress_bar = self._tqdm(total=sum(trainer.num_val_batches) or None, leave=self.leave,
                                           desc="Sanity Checking" if trainer.sanity_checking else "Validation",
                                           disable=self.refresh_rate == 0 or not trainer.is_global_zero)

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        if self.val_progress_bar is not None:
            self.val_progress_bar.update(1)

    def on_validation_end(self, trainer, pl_module):
        if self.val_progress_bar is not None:
            self.val_progress_bar.close()
            self.val_progress_bar = None
