"""The callback that logs throughput (batches, samples, items and FLOPs per second, model FLOPs utilisation) while
training, validating, testing and predicting."""
import time

from ..trainer.states import TrainerFn
from ..utilities.rank_zero import rank_zero_only, rank_zero_warn
from ..utilities.throughput import Throughput, get_available_flops
from .callback import Callback

# a Trainer's stage -> the name Lightning's metrics start with (its RunningStage values)
_STAGES = {"fit": "train", "validate": "validate", "test": "test", "predict": "predict"}


class ThroughputMonitor(Callback):
    """Logs ``Throughput``'s metrics to the Trainer's loggers as ``{stage}|{metric}`` (``train|batches``,
    ``validate|device|samples_per_sec``, ...), every ``log_every_n_steps`` (Lightning's ``ThroughputMonitor``).

    ``batch_size_fn(batch)``: the samples in a batch; ``length_fn(batch)``: the items in it (tokens, ...); other
    keyword arguments go to ``Throughput`` (``window_size``, ``separator``). FLOPs come from the module's
    ``flops_per_batch`` attribute (see ``measure_flops``); the batch size is assumed constant. Time spent validating
    during fit is not counted as training time."""

    def __init__(self, batch_size_fn, length_fn=None, **kwargs):
        super().__init__()
        self.kwargs = kwargs
        self.batch_size_fn = batch_size_fn
        self.length_fn = length_fn
        self.available_flops = None
        self._throughputs = {}
        self._t0s = {}
        self._lengths = {}
        self._samples = {}
        self._batches = {}
        self._module_has_flops = None
        self._ready = {}   # evaluation batches run so far per loop (Lightning's total batch progress)
        self._loop_batches = 0   # the current evaluation loop's batches

    def setup(self, trainer, pl_module, stage):
        import ember
        dtype = {"64-true": ember.float64, "bf16-mixed": ember.bfloat16, "16-mixed": ember.float16}.get(
            trainer.precision, ember.float32)
        self.available_flops = get_available_flops(trainer.strategy.root_device, dtype)
        if stage == "fit" and trainer.enable_validation:
            self._throughputs["validate"] = self._new_throughput(trainer)
        self._throughputs[_STAGES[stage]] = self._new_throughput(trainer)

    def _new_throughput(self, trainer):
        return Throughput(available_flops=self.available_flops, world_size=trainer.world_size, **self.kwargs)

    def _start(self, trainer, stage):
        if trainer.state.fn == TrainerFn.FITTING or stage not in self._samples:
            self._throughputs[stage].reset()
            self._lengths[stage] = self._samples[stage] = self._batches[stage] = 0
        self._t0s[stage] = time.perf_counter()

    def _update(self, trainer, pl_module, batch, stage):
        import ember
        with ember.inference_mode():   # in case length_fn or batch_size_fn computes gradients
            throughput = self._throughputs[stage]
            elapsed = time.perf_counter() - self._t0s[stage]
            if self.length_fn is not None:
                self._lengths[stage] += self.length_fn(batch)
            if self._module_has_flops is None:
                self._module_has_flops = hasattr(pl_module, "flops_per_batch")
                if not self._module_has_flops:
                    rank_zero_warn("When using the `ThroughputMonitor`, you need to define a `flops_per_batch` "
                                   f"attribute or property in {type(pl_module).__name__} to compute the FLOPs.")
            flops_per_batch = pl_module.flops_per_batch if self._module_has_flops else None
            self._samples[stage] += self.batch_size_fn(batch)
            self._batches[stage] += 1
            throughput.update(time=elapsed, batches=self._batches[stage], samples=self._samples[stage],
                              lengths=None if self.length_fn is None else self._lengths[stage], flops=flops_per_batch)

    def _compute(self, trainer, stage, step=None, loop_batches=None):
        """Logs the stage's metrics where Lightning's logger connector would update the logs: every
        ``log_every_n_steps`` optimizer steps in training, batches of the current loop (``loop_batches``) else."""
        if trainer.log_every_n_steps == 0:
            return
        count = trainer._batches_that_stepped + 1 if loop_batches is None else loop_batches
        if count % trainer.log_every_n_steps != 0 and not trainer.should_stop:
            return
        throughput = self._throughputs[stage]
        metrics = {f"{stage}{throughput.separator}{key}": value for key, value in throughput.compute().items()}
        if not trainer.loggers or not metrics:
            return
        trainer.logged_metrics.update(metrics)
        if step is None:
            metrics = {**metrics, "epoch": metrics.get("epoch", trainer.current_epoch)}
            step = trainer._batches_that_stepped
        for logger in trainer._rank_zero_loggers():
            logger.log_metrics(metrics, step=step)
            logger.save()

    def _evaluation_batch(self, trainer, pl_module, batch, stage, loop):
        self._ready[loop] = self._ready.get(loop, 0) + 1
        self._loop_batches += 1
        self._update(trainer, pl_module, batch, stage)
        self._compute(trainer, stage, self._ready[loop], self._loop_batches)

    @rank_zero_only
    def on_train_start(self, trainer, *_):
        self._start(trainer, "train")

    @rank_zero_only
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, *_):
        self._update(trainer, pl_module, batch, "train")
        if (batch_idx + 1) % trainer.accumulate_grad_batches == 0 or batch_idx + 1 == trainer.num_training_batches:
            self._compute(trainer, "train")

    @rank_zero_only
    def on_validation_start(self, trainer, *_):
        if trainer.sanity_checking:
            return
        self._loop_batches = 0
        if trainer.state.fn == TrainerFn.FITTING:   # fit's validation counts each run's batches from 0, as Lightning's
            self._ready["fit_validate"] = 0
        self._start(trainer, "validate")

    @rank_zero_only
    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, *_, **__):
        if trainer.sanity_checking:
            return
        self._evaluation_batch(trainer, pl_module, batch, "validate",
                               "fit_validate" if trainer.state.fn == TrainerFn.FITTING else "validate")

    @rank_zero_only
    def on_validation_end(self, trainer, *_):
        if trainer.sanity_checking or trainer.state.fn != TrainerFn.FITTING:
            return
        # training's clock skips the validation (and the time between the last training batch and it)
        train_times, val_times = self._throughputs["train"]._time, self._throughputs["validate"]._time
        training_finished = self._t0s["train"] + (train_times[-1] if train_times else 0.0)
        between = self._t0s["validate"] - training_finished
        self._t0s["train"] += between + (val_times[-1] if val_times else 0.0)

    @rank_zero_only
    def on_test_start(self, trainer, *_):
        self._loop_batches = 0
        self._start(trainer, "test")

    @rank_zero_only
    def on_test_batch_end(self, trainer, pl_module, outputs, batch, *_, **__):
        self._evaluation_batch(trainer, pl_module, batch, "test", "test")

    @rank_zero_only
    def on_predict_start(self, trainer, *_):
        self._loop_batches = 0
        self._start(trainer, "predict")

    @rank_zero_only
    def on_predict_batch_end(self, trainer, pl_module, outputs, batch, *_, **__):
        self._evaluation_batch(trainer, pl_module, batch, "predict", "predict")
