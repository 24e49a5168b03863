"""DeviceStatsMonitor: logs the device's utilisation (CPU and memory percentages on the CPU) around each batch."""
import importlib.util

import ember

from ..trainer.states import TrainerFn
from ..utilities.exceptions import MisconfigurationException
from .callback import Callback

_PSUTIL_MISSING = "Requirement 'psutil' not met. HINT: Try running `pip install -U 'psutil'`"


def get_cpu_stats():
    """The CPU's and memory's use in percent (through psutil), under Lightning's names."""
    if importlib.util.find_spec("psutil") is None:
        raise ModuleNotFoundError(f"Fetching CPU device stats requires `psutil` to be installed. {_PSUTIL_MISSING}")
    import psutil
    return {"cpu_vm_percent": psutil.virtual_memory().percent, "cpu_percent": psutil.cpu_percent(),
            "cpu_swap_percent": psutil.swap_memory().percent}


def _device_stats(device):
    if device.type == "cpu":
        return get_cpu_stats()
    memory_stats = getattr(ember.cuda, "memory_stats", None)
    return dict(memory_stats(device)) if memory_stats is not None else {}


class DeviceStatsMonitor(Callback):
    """Logs the device's statistics to every logger at the start and end of each training, validation and test batch
    that falls on a logging step (``log_every_n_steps``), as ``DeviceStatsMonitor.{hook}/{stat}``; ``cpu_stats``
    False leaves out the CPU's (True adds them beside a GPU's)."""

    def __init__(self, cpu_stats=None):
        self._cpu_stats = cpu_stats
        self._eval_batches = 0   # batches begun by a validate/test run (its loop's count, which Lightning checks)

    def setup(self, trainer, pl_module, stage):
        if stage != "fit":
            return
        if not trainer.loggers:
            raise MisconfigurationException("Cannot use `DeviceStatsMonitor` callback with `Trainer(logger=False)`.")
        device = trainer.strategy.root_device
        if self._cpu_stats is None and device.type == "cpu" and importlib.util.find_spec("psutil") is None:
            raise ModuleNotFoundError(f"`DeviceStatsMonitor` cannot log CPU stats as `psutil` is not installed. "
                                      f"{_PSUTIL_MISSING} ")

    def _get_and_log_device_stats(self, trainer, key):
        every = trainer.log_every_n_steps
        # Lightning's count of stepped batches (a validation inside a stepping batch comes before it counts)
        stepped = trainer._batches_that_stepped - trainer._step_pending
        # in fit, the next stepped batch (this may run before the step is taken); in validate and test, the batches
        # begun
        step = stepped + 1 if trainer.state.fn == TrainerFn.FITTING else self._eval_batches
        if every == 0 or not (step % every == 0 or trainer.should_stop):
            return
        device = trainer.strategy.root_device
        if self._cpu_stats is False and device.type == "cpu":
            return
        stats = _device_stats(device)
        if self._cpu_stats and device.type != "cpu":
            stats.update(get_cpu_stats())
        for logger in trainer._rank_zero_loggers():
            prefix = f"{type(self).__qualname__}.{key}{logger.group_separator}"
            logger.log_metrics({prefix + name: value for name, value in stats.items()},
                               step=stepped)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self._get_and_log_device_stats(trainer, "on_train_batch_start")

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self._get_and_log_device_stats(trainer, "on_train_batch_end")

    def on_validation_start(self, trainer, pl_module):
        self._eval_batches = 0

    def on_test_start(self, trainer, pl_module):
        self._eval_batches = 0

    def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
        self._eval_batches += 1
        self._get_and_log_device_stats(trainer, "on_validation_batch_start")

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        self._get_and_log_device_stats(trainer, "on_validation_batch_end")

    def on_test_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
        self._eval_batches += 1
        self._get_and_log_device_stats(trainer, "on_test_batch_start")

    def on_test_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        self._get_and_log_device_stats(trainer, "on_test_batch_end")
