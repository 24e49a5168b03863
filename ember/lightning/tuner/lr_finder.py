"""The learning-rate range test (Lightning's ``lr_find``): train ``num_training`` steps with the learning rate rising
exponentially (or linearly) from ``min_lr`` to ``max_lr``, record the smoothed loss, suggest the rate where it falls
fastest, then put the model back as it was."""
import logging
import warnings

import numpy

from ember.optim.lr_scheduler import LRScheduler

from ..callbacks.callback import Callback
from ._attributes import lightning_hasattr, lightning_setattr
from ._session import trial_session

log = logging.getLogger(__name__)


class _LRFinder:
    """The range test's outcome: ``results`` (``"lr"`` and smoothed ``"loss"`` lists), ``suggestion()`` and
    ``plot()``."""

    def __init__(self, mode, lr_min, lr_max, num_training):
        if mode not in ("linear", "exponential"):
            raise ValueError("mode should be either `linear` or `exponential`")
        self.mode, self.lr_min, self.lr_max, self.num_training = mode, lr_min, lr_max, num_training
        self.results = {}
        self._optimal_idx = None

    def _exchange_scheduler(self, trainer):
        """Starts the optimizer at ``lr_min`` under a per-step scheduler that raises it to ``lr_max``."""
        if len(trainer.optimizers) != 1:
            raise ValueError(f"`model.configure_optimizers()` returned {len(trainer.optimizers)}, but learning rate "
                             "finder only works with single optimizer")
        optimizer = trainer.optimizers[0]
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"] = self.lr_min
        scheduler = (_LinearLR if self.mode == "linear" else _ExponentialLR)(optimizer, self.lr_max,
                                                                             self.num_training)
        from .._optimizers import LRSchedulerConfig
        trainer.lr_scheduler_configs = [LRSchedulerConfig(scheduler, interval="step")]

    def suggestion(self, skip_begin=10, skip_end=1):
        """The learning rate where the smoothed loss falls fastest (the most negative gradient over the finite
        points, after skipping ``skip_begin`` and ``skip_end``); None with fewer than two points."""
        losses = numpy.asarray(self.results["loss"][skip_begin:-skip_end], dtype=numpy.float32)
        lrs = numpy.asarray(self.results["lr"][skip_begin:-skip_end], dtype=numpy.float32)
        finite = numpy.isfinite(losses)
        losses, lrs = losses[finite], lrs[finite]
        if len(losses) < 2:
            log.error("Failed to compute suggestion for learning rate because there are not enough points. Increase "
                      "the loop iteration limits or the size of your dataset/dataloader.")
            self._optimal_idx = None
            return None
        gradients = numpy.gradient(losses, lrs)   # torch.gradient's formula, in float32 as Lightning computes it
        kept = numpy.arange(len(self.results["loss"]))[skip_begin:-skip_end][finite]
        self._optimal_idx = int(kept[int(numpy.argmin(gradients))])
        return self.results["lr"][self._optimal_idx]

    def plot(self, suggest=False, show=False, ax=None):
        """A matplotlib figure of loss against learning rate (log scale for the exponential sweep), with the
        suggestion marked in red when ``suggest``."""
        try:
            import matplotlib.pyplot as plt
        except ImportError as error:
            raise ImportError("To use the `plot` method, you must have Matplotlib installed. Install it by running "
                              "`pip install -U matplotlib`.") from error
        lrs, losses = self.results["lr"], self.results["loss"]
        if ax is None:
            fig, ax = plt.subplots()
        else:
            fig = ax.figure
        ax.plot(lrs, losses)
        if self.mode == "exponential":
            ax.set_xscale("log")
        ax.set_xlabel("Learning rate")
        ax.set_ylabel("Loss")
        if suggest:
            self.suggestion()
            if self._optimal_idx:
                ax.plot(lrs[self._optimal_idx], losses[self._optimal_idx], markersize=10, marker="o", color="red")
        if show:
            plt.show()
        return fig


class _LRCallback(Callback):
    """Records the learning rate before each stepping batch and the bias-corrected exponential moving average of the
    loss after it; stops the run once the average exceeds ``early_stop_threshold`` times the best."""

    def __init__(self, num_training, early_stop_threshold=4.0, beta=0.98):
        self.num_training, self.early_stop_threshold, self.beta = num_training, early_stop_threshold, beta
        self.losses, self.lrs = [], []
        self.avg_loss = self.best_loss = 0.0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if (batch_idx + 1) % trainer.accumulate_grad_batches == 0:
            self.lrs.append(trainer.lr_scheduler_configs[0].scheduler.lr[0])

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if (batch_idx + 1) % trainer.accumulate_grad_batches != 0:
            return
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        if loss is None:
            self.losses.append(float("nan"))   # a skipped step: left out of the suggestion
            return
        current, step = loss.item(), trainer.global_step
        self.avg_loss = self.beta * self.avg_loss + (1 - self.beta) * current
        smoothed = self.avg_loss / (1 - self.beta ** (step + 1))
        if self.early_stop_threshold is not None and step > 1 and smoothed > self.early_stop_threshold * \
                self.best_loss:
            trainer.should_stop = True
        trainer.should_stop = trainer.strategy.broadcast(trainer.should_stop)
        if smoothed < self.best_loss or step == 1:
            self.best_loss = smoothed
        self.losses.append(smoothed)


class _ExponentialLR(LRScheduler):
    """lr = base * (end / base) ** ((step + 1) / num_iter) from the second step on (Lightning's schedule)."""

    def __init__(self, optimizer, end_lr, num_iter, last_epoch=-1):
        self.end_lr, self.num_iter = end_lr, num_iter
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        r = (self.last_epoch + 1) / self.num_iter
        self._lr = [base * (self.end_lr / base) ** r for base in self.base_lrs] if self.last_epoch > 0 else \
            list(self.base_lrs)
        return self._lr

    @property
    def lr(self):
        """The rates the last step set."""
        return self._lr


class _LinearLR(_ExponentialLR):
    """lr = base + (end - base) * (step + 1) / num_iter from the second step on."""

    def get_lr(self):
        r = (self.last_epoch + 1) / self.num_iter
        self._lr = [base + r * (self.end_lr - base) for base in self.base_lrs] if self.last_epoch > 0 else \
            list(self.base_lrs)
        return self._lr


def _lr_attribute(model, attr_name):
    if attr_name:
        if not lightning_hasattr(model, attr_name):
            raise AttributeError(f"The attribute name for the learning rate was set to {attr_name}, but could not "
                                 "find this as a field in `model` or `model.hparams`.")
        return attr_name
    for name in ("lr", "learning_rate"):
        if lightning_hasattr(model, name):
            return name
    raise AttributeError("When using the learning rate finder, either `model` or `model.hparams` should have one of "
                         "these fields: ('lr', 'learning_rate'). If your model has a different name for the learning "
                         "rate, set it with `.lr_find(attr_name=...)`.")


def lr_find(trainer, model, min_lr=1e-8, max_lr=1.0, num_training=100, mode="exponential", early_stop_threshold=4.0,
            update_attr=False, attr_name=""):
    """Runs the range test inside a fit (after its optimizers are set up); returns the ``_LRFinder``, with the
    model, optimizer, counters and random generators as they were before, and with ``update_attr`` the suggestion
    written to the model's ``lr``/``learning_rate`` and to the optimizer."""
    if trainer.fast_dev_run:
        warnings.warn("Skipping learning rate finder since `fast_dev_run` is enabled.")
        return None
    if update_attr:
        attr_name = _lr_attribute(model, attr_name)
    finder = _LRFinder(mode, min_lr, max_lr, num_training)
    finished = False
    with trial_session(trainer, "lr_find", isolate_rng=True):
        start = trainer.global_step
        finder._exchange_scheduler(trainer)
        recorder = _LRCallback(num_training, early_stop_threshold)
        trainer.callbacks = [recorder]
        trainer.max_steps, trainer.limit_val_batches = num_training + start, num_training
        trainer._load_fit_data()
        trainer._run_training()
        if trainer.global_step != num_training + start:
            log.info(f"LR finder stopped early after {trainer.global_step} steps due to diverging loss.")
        finder.results = trainer.strategy.broadcast({"lr": recorder.lrs, "loss": recorder.losses})
        finished = True
    if update_attr and finished:
        lr = finder.suggestion()
        if lr is not None:
            lightning_setattr(model, attr_name, lr)
            for optimizer in trainer.optimizers:
                for group in optimizer.param_groups:
                    group["lr"] = lr
            log.info(f"Learning rate set to {lr}")
    return finder
