"""LearningRateMonitor: logs each optimizer's learning rate (and momentum) to the trainer's loggers."""
from .callback import Callback


class LearningRateMonitor(Callback):
    """Logs ``lr-<Optimizer>`` (``/pg<i>`` per parameter group when there are several) every epoch or step."""

    def __init__(self, logging_interval=None, log_momentum=False, log_weight_decay=False):
        if logging_interval not in (None, "step", "epoch"):
            raise ValueError("logging_interval should be `step` or `epoch` or `None`.")
        self.logging_interval, self.log_momentum, self.log_weight_decay = logging_interval, log_momentum, \
            log_weight_decay

    def setup(self, trainer, pl_module, stage):
        if stage == "fit" and not trainer.loggers:
            raise ValueError("Cannot use `LearningRateMonitor` callback with `Trainer` that has no logger.")

    def _stats(self, trainer):
        stats = {}
        names = [type(o).__name__ for o in trainer.optimizers]
        for index, optimizer in enumerate(trainer.optimizers):
            name = f"lr-{names[index]}" + (f"-{index}" if names.count(names[index]) > 1 else "")
            groups = optimizer.param_groups
            for g, group in enumerate(groups):
                key = name if len(groups) == 1 else f"{name}/pg{g + 1}"
                stats[key] = group["lr"]
                if self.log_momentum:
                    momentum = group.get("momentum", group.get("betas", (0,))[0])
                    stats[key.replace("lr-", "lr-", 1) + "-momentum"] = momentum
                if self.log_weight_decay and "weight_decay" in group:
                    stats[key + "-weight_decay"] = group["weight_decay"]
        return stats

    def _log(self, trainer):
        stats = self._stats(trainer)
        for logger in trainer.loggers:
            logger.log_metrics(stats, step=trainer._batches_that_stepped)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if self.logging_interval == "step" and (trainer._batches_that_stepped + 1) % trainer.log_every_n_steps == 0:
            self._log(trainer)

    def on_train_epoch_start(self, trainer, pl_module):
        if self.logging_interval != "step":
            self._log(trainer)
