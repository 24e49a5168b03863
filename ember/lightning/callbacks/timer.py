"""Timer: measures the time spent in training, validation and testing, and stops training after a given time."""
import re
import time
from datetime import timedelta

from ..utilities.exceptions import MisconfigurationException
from ..utilities.rank_zero import rank_zero_info
from .callback import Callback

_STAGES = ("train", "sanity_check", "validate", "test", "predict")   # Lightning's RunningStage values


def _stage(stage):
    stage = getattr(stage, "value", stage)
    if stage not in _STAGES:
        raise ValueError(f"{stage!r} is not a valid RunningStage")
    return stage


class Timer(Callback):
    """Tracks the time of the training, validation and test loops (seconds, ``time.monotonic``) and signals the Trainer
    to stop once training has run for ``duration`` ("DD:HH:MM:SS", a ``timedelta`` or a dict of its arguments),
    checked after each batch (``interval="step"``) or epoch (``"epoch"``)."""

    def __init__(self, duration=None, interval="step", verbose=True):
        super().__init__()
        if isinstance(duration, str):
            match = re.fullmatch(r"(\d+):(\d\d):(\d\d):(\d\d)", duration.strip())
            if not match:
                raise MisconfigurationException(f"`Timer(duration={duration!r})` is not a valid duration. "
                                                "Expected a string in the format DD:HH:MM:SS.")
            duration = timedelta(days=int(match.group(1)), hours=int(match.group(2)), minutes=int(match.group(3)),
                                 seconds=int(match.group(4)))
        elif isinstance(duration, dict):
            duration = timedelta(**duration)
        interval = getattr(interval, "value", interval)
        if interval not in ("step", "epoch"):
            raise MisconfigurationException(f"Unsupported parameter value `Timer(interval={interval})`. Possible "
                                            f"choices are: {', '.join({'step', 'epoch'})}")
        self._duration = duration.total_seconds() if duration is not None else None
        self._interval = interval
        self._verbose = verbose
        self._start_time = dict.fromkeys(_STAGES)
        self._end_time = dict.fromkeys(_STAGES)
        self._offset = 0

    def start_time(self, stage="train"):
        """When ``stage`` ("train", "validate", "test", ...) last started (seconds), or None."""
        return self._start_time[_stage(stage)]

    def end_time(self, stage="train"):
        """When ``stage`` last ended (seconds), or None."""
        return self._end_time[_stage(stage)]

    def time_elapsed(self, stage="train"):
        """Seconds spent in ``stage`` (training also counts the time restored from a checkpoint)."""
        start, end = self.start_time(stage), self.end_time(stage)
        offset = self._offset if _stage(stage) == "train" else 0
        if start is None:
            return offset
        if end is None:
            return time.monotonic() - start + offset
        return end - start + offset

    def time_remaining(self, stage="train"):
        """Seconds left of ``duration`` (None without one)."""
        if self._duration is not None:
            return self._duration - self.time_elapsed(stage)
        return None

    def on_train_start(self, trainer, pl_module):
        self._start_time["train"] = time.monotonic()

    def on_train_end(self, trainer, pl_module):
        self._end_time["train"] = time.monotonic()

    def on_validation_start(self, trainer, pl_module):
        self._start_time["validate"] = time.monotonic()

    def on_validation_end(self, trainer, pl_module):
        self._end_time["validate"] = time.monotonic()

    def on_test_start(self, trainer, pl_module):
        self._start_time["test"] = time.monotonic()

    def on_test_end(self, trainer, pl_module):
        self._end_time["test"] = time.monotonic()

    def on_fit_start(self, trainer, *args, **kwargs):
        if self._duration is not None:   # after a restore, whose time may be spent already
            self._check_time_remaining(trainer)

    def on_train_batch_end(self, trainer, *args, **kwargs):
        if self._interval == "step" and self._duration is not None:
            self._check_time_remaining(trainer)

    def on_train_epoch_end(self, trainer, *args, **kwargs):
        if self._interval == "epoch" and self._duration is not None:
            self._check_time_remaining(trainer)

    def state_dict(self):
        return {"time_elapsed": {stage: self.time_elapsed(stage) for stage in _STAGES}}

    def load_state_dict(self, state_dict):
        self._offset = state_dict.get("time_elapsed", {}).get("train", 0)

    def _check_time_remaining(self, trainer):
        should_stop = trainer.strategy.broadcast(self.time_elapsed() >= self._duration)
        trainer.should_stop = trainer.should_stop or should_stop
        if should_stop and self._verbose:
            elapsed = timedelta(seconds=int(self.time_elapsed("train")))
            rank_zero_info(f"Time limit reached. Elapsed time is {elapsed}. Signaling Trainer to stop.")
