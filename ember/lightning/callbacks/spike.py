"""SpikeDetection: stops training when the loss jumps far above its running mean, and records the batches to skip."""
import collections
import json
import os

import ember

from .callback import Callback


class TrainingSpikeException(RuntimeError):
    """Raised when SpikeDetection finds a spike in the training loss."""

    def __init__(self, batch_idx, *args, **kwargs):
        super().__init__(f"Training spike detected in batch {batch_idx}", *args, **kwargs)


class SpikeDetection(Callback):
    """Compares each training loss (after ``warmup`` batches) with the mean of the last ``window`` ones: a loss that
    moves the wrong way (up with ``mode="min"``) by at least ``atol`` and ``rtol`` times the mean, or one that is not
    finite (``finite_only``), writes this and the previous batch index to ``exclude_batches_path`` (a JSON file,
    ``default_root_dir/skip_batches.json`` by default) and raises ``TrainingSpikeException``."""

    def __init__(self, mode="min", window=10, warmup=1, atol=None, rtol=2.0, exclude_batches_path=None,
                 finite_only=True):
        super().__init__()
        self.last_val = 0.0
        self._window = collections.deque(maxlen=window)   # the running mean's last values
        self.mode = mode
        self.warmup = warmup
        self.atol = atol
        self.rtol = rtol
        self.bad_batches = []
        self.exclude_batches_path = exclude_batches_path
        self.finite_only = finite_only

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        with ember.no_grad():
            if isinstance(outputs, ember.Tensor):
                loss = outputs.detach()
            elif isinstance(outputs, collections.abc.Mapping):
                loss = outputs["loss"].detach()
            else:
                raise TypeError(f"outputs have to be of type torch.Tensor or Mapping, got {type(outputs).__qualname__}")
            if self.exclude_batches_path is None:
                self.exclude_batches_path = os.path.join(trainer.default_root_dir, "skip_batches.json")
            if not str(self.exclude_batches_path).endswith(".json"):
                self.exclude_batches_path = os.path.join(self.exclude_batches_path, "skip_batches.json")
            is_spike = bool(batch_idx >= self.warmup and self._is_spike(loss))
            trainer.strategy.barrier()
            # each process looks at its own loss; a spike anywhere stops all of them
            if trainer.strategy.reduce_boolean_decision(is_spike, all=False):
                self._handle_spike(trainer, batch_idx)
            elif self.finite_only or trainer.strategy.reduce_boolean_decision(bool(ember.isfinite(loss).all()),
                                                                              all=True):
                self._update_stats(loss)

    def _running_mean(self):
        if not self._window:
            return ember.tensor(float("nan"))
        return ember.stack(list(self._window)).sum() / len(self._window)

    def _is_spike(self, loss):
        running = self._running_mean()
        difference = loss - self.last_val
        if self.finite_only and not ember.isfinite(loss):
            return True
        if self._is_better(difference):
            return False
        return self._check_atol(loss, running) and self._check_rtol(loss, running)

    def _handle_spike(self, trainer, batch_idx):
        # the batch itself (its data may be what spikes) and the one before (it may have spoiled the weights)
        self.bad_batches.extend([batch_idx - 1, batch_idx])
        if trainer.global_rank == 0:
            os.makedirs(os.path.dirname(self.exclude_batches_path), exist_ok=True)
            with open(self.exclude_batches_path, "w") as file:
                json.dump(self.bad_batches, file, indent=4)
        raise TrainingSpikeException(batch_idx=batch_idx)

    def _check_atol(self, val_a, val_b):
        return self.atol is None or bool(abs(val_a - val_b) >= abs(self.atol))

    def _check_rtol(self, val_a, val_b):
        return self.rtol is None or bool(abs(val_a - val_b) >= abs(self.rtol * val_b))

    def _is_better(self, diff_val):
        if self.mode == "min":
            return bool((diff_val <= 0.0).all())
        if self.mode == "max":
            return bool((diff_val >= 0).all())
        raise ValueError(f"Invalid mode. Has to be min or max, found {self.mode}")

    def _update_stats(self, val):
        self._window.append(val.float().reshape(()))
        self.last_val = val

    def state_dict(self):
        # "running" and "mean" are the (empty) state dicts of Lightning's torchmetrics running mean
        return {"last_val": self.last_val.item() if isinstance(self.last_val, ember.Tensor) else self.last_val,
                "mode": self.mode, "warmup": self.warmup, "atol": self.atol, "rtol": self.rtol,
                "bad_batches": self.bad_batches, "bad_batches_path": self.exclude_batches_path,
                "running": {}, "mean": {}}

    def load_state_dict(self, state_dict):
        state_dict = dict(state_dict)
        self.last_val = state_dict.pop("last_val")
        self.mode = state_dict.pop("mode")
        self.warmup = state_dict.pop("warmup")
        self.atol = state_dict.pop("atol")
        self.rtol = state_dict.pop("rtol")
        self.bad_batches = state_dict.pop("bad_batches")
        self.exclude_batches_path = state_dict.pop("bad_batches_path")
