"""BasePredictionWriter: the base of callbacks that write ``Trainer.predict``'s outputs as they come."""
import inspect

from ..utilities.exceptions import MisconfigurationException
from .callback import Callback

_INTERVALS = ("batch", "epoch", "batch_and_epoch")


class BasePredictionWriter(Callback):
    """Calls ``write_on_batch_end`` after each prediction batch (``write_interval="batch"``), ``write_on_epoch_end``
    with all predictions at the end (``"epoch"``), or both (``"batch_and_epoch"``); subclasses write the files. The
    batch indices are the dataset indices of each batch's samples."""

    def __init__(self, write_interval="batch"):
        write_interval = getattr(write_interval, "value", write_interval)
        if write_interval not in _INTERVALS:
            raise MisconfigurationException(f"`write_interval` should be one of {list(_INTERVALS)}.")
        self.interval = _WriteInterval(write_interval)

    def setup(self, trainer, pl_module, stage):
        try:
            parameters = inspect.signature(pl_module.predict_step).parameters
        except (TypeError, ValueError):
            return
        if "dataloader_iter" in parameters:
            raise NotImplementedError("The `PredictionWriterCallback` does not support using `dataloader_iter`.")

    def write_on_batch_end(self, trainer, pl_module, prediction, batch_indices, batch, batch_idx, dataloader_idx):
        """Override with the logic to write a single batch."""
        raise NotImplementedError()

    def write_on_epoch_end(self, trainer, pl_module, predictions, batch_indices):
        """Override with the logic to write all batches."""
        raise NotImplementedError()

    def on_predict_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        if not self.interval.on_batch:
            return
        batch_indices = trainer.predict_loop.current_batch_indices
        self.write_on_batch_end(trainer, pl_module, outputs, batch_indices, batch, batch_idx, dataloader_idx)

    def on_predict_epoch_end(self, trainer, pl_module):
        if not self.interval.on_epoch:
            return
        loop = trainer.predict_loop
        self.write_on_epoch_end(trainer, pl_module, loop.predictions, loop.epoch_batch_indices)


class _WriteInterval(str):
    """Lightning's WriteInterval: the interval's name, which tells whether to write per batch and per epoch."""

    @property
    def value(self):
        return str(self)

    @property
    def on_batch(self):
        return self in ("batch", "batch_and_epoch")

    @property
    def on_epoch(self):
        return self in ("epoch", "batch_and_epoch")
