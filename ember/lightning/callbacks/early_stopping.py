"""EarlyStopping: stops fitting when a monitored metric has stopped improving (Lightning 2.x's rules)."""
import logging
import math

import ember

from ..trainer.states import TrainerFn
from ..utilities.rank_zero import rank_prefixed_message
from .callback import Callback

log = logging.getLogger(__name__)


class EarlyStopping(Callback):
    """Stops training after ``patience`` checks without an improvement of ``monitor`` by more than ``min_delta``."""

    _monitors = True

    def __init__(self, monitor, min_delta=0.0, patience=3, verbose=False, mode="min", strict=True,
                 check_finite=True, stopping_threshold=None, divergence_threshold=None,
                 check_on_train_epoch_end=None, log_rank_zero_only=False):
        if mode not in ("min", "max"):
            raise ValueError(f"`mode` can be 'min' or 'max', got {mode}")
        self.monitor, self.patience, self.verbose, self.mode, self.strict = monitor, patience, verbose, mode, strict
        self.check_finite, self.stopping_threshold = check_finite, stopping_threshold
        self.divergence_threshold = divergence_threshold
        self.min_delta = abs(min_delta) * (1 if mode == "max" else -1)
        self.wait_count, self.stopped_epoch = 0, 0
        self.best_score = ember.tensor(math.inf if mode == "min" else -math.inf)
        self.stopping_reason_message = None
        self._check_on_train_epoch_end = check_on_train_epoch_end
        self.log_rank_zero_only = log_rank_zero_only

    @property
    def state_key(self):
        return self._generate_state_key(monitor=self.monitor, mode=self.mode)

    def _better(self, a, b):
        return bool(a < b) if self.mode == "min" else bool(a > b)

    def setup(self, trainer, pl_module, stage):
        if self._check_on_train_epoch_end is None:
            self._check_on_train_epoch_end = trainer.val_check_interval == 1.0 and trainer.check_val_every_n_epoch == 1

    def state_dict(self):
        return {"wait_count": self.wait_count, "stopped_epoch": self.stopped_epoch, "best_score": self.best_score,
                "patience": self.patience}

    def load_state_dict(self, state_dict):
        self.wait_count, self.stopped_epoch = state_dict["wait_count"], state_dict["stopped_epoch"]
        self.best_score, self.patience = state_dict["best_score"], state_dict["patience"]

    def _skip(self, trainer):
        return trainer.state.fn != TrainerFn.FITTING or trainer.sanity_checking

    def on_train_epoch_end(self, trainer, pl_module):
        if self._check_on_train_epoch_end and not self._skip(trainer):
            self._run_early_stopping_check(trainer)

    def on_validation_end(self, trainer, pl_module):
        if not self._check_on_train_epoch_end and not self._skip(trainer):
            self._run_early_stopping_check(trainer)

    def _run_early_stopping_check(self, trainer):
        logs = trainer.callback_metrics
        if trainer.fast_dev_run:
            return
        if self.monitor not in logs:
            message = (f"Early stopping conditioned on metric `{self.monitor}` which is not available. Pass in or "
                       "modify your `EarlyStopping` callback to use any of the following: "
                       f"`{'`, `'.join(logs)}`")
            if self.strict:
                raise RuntimeError(message)
            return
        current = logs[self.monitor].reshape(())
        should_stop, reason = self._evaluate_stopping_criteria(current)
        should_stop = trainer.strategy.reduce_boolean_decision(should_stop, all=False)   # any rank stops all
        trainer.should_stop = trainer.should_stop or should_stop
        if should_stop:
            self.stopped_epoch = trainer.current_epoch
            self.stopping_reason_message = reason
        if reason and self.verbose:
            rank = trainer.global_rank if trainer.world_size > 1 else None
            if rank is None or not self.log_rank_zero_only or rank == 0:
                log.info(rank_prefixed_message(reason, rank))

    def _evaluate_stopping_criteria(self, current):
        value = float(current)
        if self.check_finite and not math.isfinite(value):
            return True, (f"Monitored metric {self.monitor} = {value} is not finite. Previous best value was "
                          f"{float(self.best_score):.3f}. Signaling Trainer to stop.")
        if self.stopping_threshold is not None and self._better(value, self.stopping_threshold):
            return True, (f"Stopping threshold reached: {self.monitor} = {value} "
                          f"{'<' if self.mode == 'min' else '>'} {self.stopping_threshold}. Signaling Trainer to stop.")
        if self.divergence_threshold is not None and self._better(-value, -self.divergence_threshold):
            return True, (f"Divergence threshold reached: {self.monitor} = {value} "
                          f"{'>' if self.mode == 'min' else '<'} {self.divergence_threshold}. Signaling Trainer to "
                          "stop.")
        if self._better(value - self.min_delta, float(self.best_score)):
            improved = "Metric {} improved{}. New best score: {:.3f}".format(
                self.monitor, "" if not math.isfinite(float(self.best_score)) else
                f" by {abs(float(self.best_score) - value):.3f} >= min_delta = {abs(self.min_delta)}", value)
            self.best_score, self.wait_count = current.detach().clone(), 0
            return False, improved
        self.wait_count += 1
        if self.wait_count >= self.patience:
            return True, (f"Monitored metric {self.monitor} did not improve in the last {self.wait_count} records. "
                          f"Best score: {float(self.best_score):.3f}. Signaling Trainer to stop.")
        return False, None
