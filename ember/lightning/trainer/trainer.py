"""Trainer: runs a LightningModule's fit, validate, test and predict loops with Lightning 2.x's arguments, hook
order, logging, gradient accumulation and clipping, checkpoints and resuming."""
import importlib.util
import math
import os
import warnings
import weakref
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, Optional, Union

import ember

from .. import _results, _trainer_docs
from .._checkpointing import _Checkpointing
from .._hook_calls import _HookCalls
from .._launch import launch
from .._loop_parts import (_as_list, _check_batch_limit, _checkpoints_last, _IndexRecorder, _is_overridden, _limit,
                          _manual_output, _PredictLoop, _print_results, _training_loss, _Unrepeated, _whole)
from .._optimizers import configure_optimizers
from .._step_metrics import _StepMetrics
from .._trainer_properties import _TrainerProperties
from ..callbacks import Callback, Checkpoint, ModelCheckpoint, ModelSummary, ProgressBar, Timer, TQDMProgressBar
from ..datamodule import LightningDataModule
from ..loggers import CSVLogger, Logger, TensorBoardLogger
from ..profilers import Profiler, _init_profiler
from ..strategies import DDPStrategy, Strategy, strategy_for, use_plugins
from ..tuner.exit import TunerExit
from ..utilities.rank_zero import WarningCache, rank_zero_info, rank_zero_warn
from ..utilities.seed import isolate_rng
from ..utilities.warnings import PossibleUserWarning
from ._stage_flags import _StageFlags
from .states import RunningStage, TrainerFn, TrainerState, TrainerStatus

_warning_cache = WarningCache()   # warnings given once per process, as Lightning's
_PRECISIONS = {"32": "32-true", "32-true": "32-true", 32: "32-true", "64": "64-true", "64-true": "64-true",
               64: "64-true", "16": "16-mixed", 16: "16-mixed", "16-mixed": "16-mixed", "bf16": "bf16-mixed",
               "bf16-mixed": "bf16-mixed"}


class Trainer(_Checkpointing, _StepMetrics, _TrainerProperties, _StageFlags, _HookCalls):
    """Trains, validates, tests and predicts with a LightningModule (Lightning 2.x's ``Trainer``)."""

    # annotated as Lightning's, for the tools that read the signature (LightningCLI's jsonargparse)
    def __init__(self, *, accelerator: str = "auto", strategy: Union[str, Strategy] = "auto",
                 devices: Union[list[int], str, int] = "auto", num_nodes: int = 1,
                 precision: Optional[Union[Literal[64, 32, 16], Literal["16-mixed", "bf16-mixed", "32-true", "64-true"],
                                           Literal["64", "32", "16", "bf16"]]] = None,
                 logger: Optional[Union[Logger, Iterable[Logger], bool]] = None,
                 callbacks: Optional[Union[list[Callback], Callback]] = None, fast_dev_run: Union[int, bool] = False,
                 max_epochs: Optional[int] = None, min_epochs: Optional[int] = None, max_steps: int = -1,
                 min_steps: Optional[int] = None, max_time: Optional[Union[str, timedelta, dict[str, int]]] = None,
                 limit_train_batches: Optional[Union[int, float]] = None,
                 limit_val_batches: Optional[Union[int, float]] = None,
                 limit_test_batches: Optional[Union[int, float]] = None,
                 limit_predict_batches: Optional[Union[int, float]] = None,
                 overfit_batches: Union[int, float] = 0.0,
                 val_check_interval: Optional[Union[int, float, str, timedelta, dict[str, int]]] = None,
                 check_val_every_n_epoch: Optional[int] = 1, num_sanity_val_steps: Optional[int] = None,
                 log_every_n_steps: Optional[int] = None, enable_checkpointing: Optional[bool] = None,
                 enable_progress_bar: Optional[bool] = None, enable_model_summary: Optional[bool] = None,
                 accumulate_grad_batches: int = 1, gradient_clip_val: Optional[Union[int, float]] = None,
                 gradient_clip_algorithm: Optional[str] = None,
                 deterministic: Optional[Union[bool, Literal["warn"]]] = None,
                 benchmark: Optional[bool] = None, inference_mode: bool = True, use_distributed_sampler: bool = True,
                 profiler: Optional[Union[Profiler, str]] = None, detect_anomaly: bool = False,
                 barebones: bool = False, plugins: Optional[Any] = None, sync_batchnorm: bool = False,
                 reload_dataloaders_every_n_epochs: int = 0, default_root_dir: Optional[Union[str, Path]] = None,
                 enable_autolog_hparams: bool = True, model_registry: Optional[str] = None):
        self._check_accelerator(accelerator)
        if barebones and profiler is not None:
            raise ValueError(f"`Trainer(barebones=True, profiler={profiler!r})` was passed. Profiling can impact raw "
                             "speed so it is disabled in barebones mode.")
        self.strategy = use_plugins(strategy_for(strategy, devices, num_nodes), plugins)
        self.num_nodes, self.use_distributed_sampler = num_nodes, use_distributed_sampler
        self.precision = _PRECISIONS.get(precision if precision is not None else "32-true")
        if str(precision) in ("16", "bf16"):
            rank_zero_warn(f"`precision={precision}` is supported for historical reasons but its usage is discouraged. "
                           f"Please set your precision to {self.precision} instead!")
        if self.precision is None:
            raise ValueError(f"Precision {precision!r} is invalid. Allowed precision values: "
                             "('16-mixed', 'bf16-mixed', '32-true', '64-true', '32', '16', 'bf16', '64')")
        if self.precision in ("16-mixed", "bf16-mixed") and not hasattr(ember, "autocast"):
            raise ValueError(f"precision={precision!r} needs ember.autocast (mixed precision), which this ember does "
                             "not have yet; use precision='32-true' or '64-true'")
        if self.precision == "16-mixed" and self.strategy.root_device.type == "cpu":
            rank_zero_warn("You passed `Trainer(accelerator='cpu', precision='16-mixed')` but AMP with fp16 is not "
                           "supported on CPU. Using `precision='bf16-mixed'` instead.")
            self.precision = "bf16-mixed"
        if self.precision in ("16-mixed", "bf16-mixed"):
            rank_zero_info(f"Using {'16bit' if self.precision == '16-mixed' else 'bfloat16'} Automatic Mixed "
                           "Precision (AMP)")
        self.fast_dev_run = int(fast_dev_run)
        if fast_dev_run:
            limit_train_batches = limit_val_batches = limit_test_batches = limit_predict_batches = self.fast_dev_run
            max_epochs, max_steps, num_sanity_val_steps, val_check_interval = 1, self.fast_dev_run, 0, 1.0
            logger, enable_checkpointing = False, False
        self._overfit = overfit_batches
        if overfit_batches:
            limit_train_batches = limit_val_batches = overfit_batches
        if max_epochs is None:
            max_epochs = 1000 if max_steps == -1 and max_time is None else -1
        self.max_epochs, self.min_epochs, self.max_steps, self.min_steps = max_epochs, min_epochs, max_steps, min_steps
        self.limit_train_batches = 1.0 if limit_train_batches is None else _whole(limit_train_batches)
        self.limit_val_batches = 1.0 if limit_val_batches is None else _whole(limit_val_batches)
        self.limit_test_batches = 1.0 if limit_test_batches is None else _whole(limit_test_batches)
        self.limit_predict_batches = 1.0 if limit_predict_batches is None else _whole(limit_predict_batches)
        self.val_check_interval = 1.0 if val_check_interval is None else _whole(val_check_interval)
        self.check_val_every_n_epoch = check_val_every_n_epoch
        self.num_sanity_val_steps = 2 if num_sanity_val_steps is None else num_sanity_val_steps
        if self.num_sanity_val_steps == -1:   # all the batches, as Lightning
            self.num_sanity_val_steps = float("inf")
        self.log_every_n_steps = 50 if log_every_n_steps is None else log_every_n_steps
        if not isinstance(accumulate_grad_batches, int) or accumulate_grad_batches < 1:
            raise ValueError(f"`accumulate_grad_batches` should be an int >= 1, got {accumulate_grad_batches}.")
        self.accumulate_grad_batches = accumulate_grad_batches
        if gradient_clip_algorithm not in (None, "norm", "value"):
            raise ValueError(f"`gradient_clip_algorithm` {gradient_clip_algorithm!r} is invalid. "
                             "Allowed algorithms: ['value', 'norm'].")
        self.gradient_clip_val, self.gradient_clip_algorithm = gradient_clip_val, gradient_clip_algorithm
        self.default_root_dir = os.fspath(default_root_dir) if default_root_dir is not None else os.getcwd()
        self.deterministic, self.detect_anomaly = deterministic, detect_anomaly
        self.reload_dataloaders_every_n_epochs = reload_dataloaders_every_n_epochs
        self._inference_mode = inference_mode
        self.enable_autolog_hparams = enable_autolog_hparams

        no_tensorboard = False
        if logger is None or logger is True:   # TensorBoard's when its writer is installed, as in Lightning
            default = TensorBoardLogger if importlib.util.find_spec("tensorboardX") else CSVLogger
            no_tensorboard = not barebones and not (importlib.util.find_spec("tensorboard")
                                                    or importlib.util.find_spec("tensorboardX"))
            logger = [] if barebones else [default(self.default_root_dir)]
        elif logger is False:
            logger = []
        self.loggers = list(logger) if isinstance(logger, (list, tuple)) else [logger]
        callbacks = list(callbacks) if isinstance(callbacks, (list, tuple)) else ([callbacks] if callbacks else [])
        if enable_checkpointing is not False and not barebones and not any(
                isinstance(c, Checkpoint) for c in callbacks):
            callbacks.append(ModelCheckpoint())
        elif enable_checkpointing is False and any(isinstance(c, Checkpoint) for c in callbacks):
            raise ValueError("Trainer was configured with `enable_checkpointing=False` but found `ModelCheckpoint` "
                             "in callbacks list.")
        if max_time is not None:   # Lightning's max_time is a Timer checked after every batch
            if any(isinstance(c, Timer) for c in callbacks):
                rank_zero_info("Ignoring `Trainer(max_time=...)`, callbacks list already contains a Timer.")
            else:
                callbacks.append(Timer(duration=max_time, interval="step"))
        if enable_progress_bar is not False and not barebones and not any(
                isinstance(c, ProgressBar) for c in callbacks):
            callbacks.append(TQDMProgressBar())
        if enable_model_summary is not False and not barebones and not any(
                isinstance(c, ModelSummary) for c in callbacks):
            callbacks.append(ModelSummary())
        self.callbacks = _checkpoints_last(callbacks)
        self._log_device_info()
        if no_tensorboard:   # Lightning says so after the device lines
            _warning_cache.warn(
                "Starting from v1.9.0, `tensorboardX` has been removed as a dependency of the `pytorch_lightning` "
                "package, due to potential conflicts with other packages in the ML ecosystem. For this reason, "
                "`logger=True` will use `CSVLogger` as the default logger, unless the `tensorboard` or `tensorboardX` "
                "packages are found. Please `pip install lightning[extra]` or one of them to enable TensorBoard "
                "support by default")
        self.profiler = _init_profiler(profiler)
        _check_batch_limit(overfit_batches, "overfit_batches")
        if fast_dev_run:
            rank_zero_info(f"Running in `fast_dev_run` mode: will run the requested loop using {self.fast_dev_run} "
                           "batch(es). Logging and checkpointing is suppressed.")
        else:
            given = [("limit_test_batches", limit_test_batches), ("limit_predict_batches", limit_predict_batches)]
            if not overfit_batches:
                given = [("limit_train_batches", limit_train_batches), ("limit_val_batches", limit_val_batches),
                         *given]
            for name, value in given + [("val_check_interval", val_check_interval)]:
                _check_batch_limit(value, name)

        self.current_epoch = 0
        self.global_step = 0
        self.should_stop = False
        self.state = TrainerState()
        self.lightning_module = None
        self.datamodule = None
        self.optimizers, self.lr_scheduler_configs = [], []
        self.callback_metrics, self.logged_metrics, self.progress_bar_metrics = {}, {}, {}
        self._results = self._new_results()
        self._runner = None
        self._scaler = None
        self._batches_that_stepped = 0
        self._skip_backward = False   # forward passes only (StochasticWeightAveraging's batch-norm epoch)
        # where the epoch is, for checkpoints' loop state: batches completed, inside on_train_batch_end, a stepped
        # batch counted before validation (Lightning counts it after), the batch a mid-epoch resume starts at
        self._batches_completed, self._in_batch_end, self._step_pending, self._resume_batch = 0, False, False, 0
        # optimizer and scheduler steps at the epoch's start, scheduler steps and the last validation's batches in
        # all (the checkpoint's per-epoch and total progress counters)
        self._epoch_start_step = self._scheduler_steps = self._epoch_start_scheduler_steps = 0
        self._val_batches_run = 0
        self._epoch_stage = 0   # 0 between epochs, 1 running one, 2 its batches done (on_train_epoch_end)
        self.num_training_batches = 0
        self.num_val_batches = []
        self.num_test_batches, self.num_predict_batches = [], []
        self.train_dataloader = None
        self.val_dataloaders = None
        self.test_dataloaders = None
        self.predict_dataloaders = None
        self.predict_loop = _PredictLoop(0, True)

    def _log_device_info(self):
        """Lightning's lines on the accelerators found and used (ember's Trainer runs on the CPU)."""
        gpu_available = ember.cuda.is_available()
        rank_zero_info(f"GPU available: {gpu_available}{' (cuda)' if gpu_available else ''}, used: "
                       f"{self.strategy.root_device.type == 'cuda'}")
        rank_zero_info("TPU available: False, using: 0 TPU cores")
        if gpu_available and self.strategy.root_device.type != "cuda":
            rank_zero_warn("GPU available but not used. You can set it by doing `Trainer(accelerator='gpu')`.",
                           category=PossibleUserWarning)

    # --- entry points ---------------------------------------------------------------------------------------
    def fit(self, model, train_dataloaders=None, val_dataloaders=None, datamodule=None,
            ckpt_path: Optional[Union[str, Path]] = None, weights_only: Optional[bool] = None):
        """Trains ``model`` (resuming from ``ckpt_path``), validating as configured."""
        self._weights_only = weights_only
        self._start(TrainerFn.FITTING, RunningStage.TRAINING)
        return self._call_and_handle_interrupt(self._fit, model, train_dataloaders, val_dataloaders, datamodule,
                                               ckpt_path)

    def _fit(self, model, train_dataloaders, val_dataloaders, datamodule, ckpt_path):
        if isinstance(train_dataloaders, LightningDataModule):
            datamodule, train_dataloaders = train_dataloaders, None
        if self._must_launch():
            return launch(self, "fit", model, train_dataloaders, val_dataloaders, datamodule, ckpt_path)
        ckpt_path = self._ckpt_path = self._select_ckpt_path("fit", ckpt_path, model_provided=True)
        self._attach(model, datamodule, "fit", val_given=val_dataloaders is not None)
        self._reset_metrics()
        self._fit_sources = train_dataloaders, val_dataloaders
        self._load_fit_data()
        self._log_hyperparams()
        # as Lightning: weights and callbacks come back before the optimizers are configured and on_fit_start runs
        # (a finetuning callback rebuilds its param groups there), the optimizers' and loops' state after
        checkpoint = self._load_checkpoint(ckpt_path) if ckpt_path is not None else None
        self._restarting = False
        if checkpoint is not None:
            self._restore_modules_and_callbacks(checkpoint)
        self._runner = self.strategy.connect(model)
        self._setup_optimizers(model)
        try:
            self._call_hook("on_fit_start")
        except TunerExit:   # a Tuner's finder ran in on_fit_start and ends the fit (Lightning's _TunerExitException)
            self._end_fit()
            return
        if checkpoint is not None:
            self._restore(checkpoint, ckpt_path)
        with self._anomaly():
            val_loaders = _as_list(self.val_dataloaders)
            if self.num_sanity_val_steps and val_loaders and not self._restarting:
                with isolate_rng():   # as Lightning: the sanity check leaves the training data order as it was
                    self._sanity_check(val_loaders)
            self._run_training()
        self._call_hook("on_fit_end")
        self._end_fit()

    def _load_fit_data(self):
        """(Re)loads the fit's dataloaders: those given to ``fit`` or the module's/datamodule's hooks."""
        train, val = self._fit_sources
        train = train if train is not None else self._loader("train_dataloader")
        if not getattr(self, "_has_val_step", True):
            val = []   # no validation_step: Lightning skips the validation loop and never asks for its data
        val = val if val is not None else self._loader("val_dataloader", True)
        self.train_dataloader = self._distribute(train, shuffle=True)
        self.val_dataloaders = [self._distribute(loader) for loader in _as_list(val)] or val
        self.num_training_batches = _limit(self.train_dataloader, self.limit_train_batches)
        self.num_val_batches = [_limit(loader, self.limit_val_batches) for loader in _as_list(self.val_dataloaders)]

    def _run_training(self):
        """The fit loop: epochs until max_epochs/max_steps or a stop, between on_train_start and on_train_end."""
        if self.loggers and self.num_training_batches < self.log_every_n_steps and not self.fast_dev_run:
            rank_zero_warn(f"The number of training batches ({self.num_training_batches}) is smaller than the logging "
                           f"interval Trainer(log_every_n_steps={self.log_every_n_steps}). Set a lower value for "
                           "log_every_n_steps if you want to see logs for the training epoch.",
                           category=PossibleUserWarning)
        eval_modules = [name for name, module in self.lightning_module.named_modules() if not module.training]
        if eval_modules:   # Lightning leaves each module's mode as the user set it
            rank_zero_warn(f"Found {len(eval_modules)} module(s) in eval mode at the start of training. This may "
                           "lead to unexpected behavior during training. If this is intentional, you can ignore this "
                           "warning.", category=PossibleUserWarning)
        self._call_hook("on_train_start")
        self._strategy_hook("on_train_start")
        while not self._fit_done():
            self._train_epoch(self.train_dataloader, _as_list(self.val_dataloaders))
            self.current_epoch += 1
        self._call_hook("on_train_end")
        self._strategy_hook("on_train_end")

    def _end_fit(self):
        self.strategy.teardown()
        self._runner = None
        self._detach("fit")
        self._finish()

    def validate(self, model=None, dataloaders=None, ckpt_path: Optional[Union[str, Path]] = None,
                 verbose: bool = True, datamodule=None, weights_only: Optional[bool] = None):
        """Runs one validation epoch; returns a list with one dict of logged metrics per dataloader."""
        self._weights_only = weights_only
        self._start(TrainerFn.VALIDATING, RunningStage.VALIDATING)
        if self._must_launch():
            return self._call_and_handle_interrupt(launch, self, "validate", model, dataloaders, ckpt_path, verbose,
                                                   datamodule)
        return self._call_and_handle_interrupt(self._evaluate, "validate", model, dataloaders, ckpt_path, verbose,
                                               datamodule)

    def test(self, model=None, dataloaders=None, ckpt_path: Optional[Union[str, Path]] = None, verbose: bool = True,
             datamodule=None, weights_only: Optional[bool] = None):
        """Runs one test epoch; returns a list with one dict of logged metrics per dataloader."""
        self._weights_only = weights_only
        self._start(TrainerFn.TESTING, RunningStage.TESTING)
        if self._must_launch():
            return self._call_and_handle_interrupt(launch, self, "test", model, dataloaders, ckpt_path, verbose,
                                                   datamodule)
        return self._call_and_handle_interrupt(self._evaluate, "test", model, dataloaders, ckpt_path, verbose,
                                               datamodule)

    def predict(self, model=None, dataloaders=None, datamodule=None, return_predictions: Optional[bool] = None,
                ckpt_path: Optional[Union[str, Path]] = None, weights_only: Optional[bool] = None):
        """The outputs of ``predict_step`` on every batch (a list per dataloader when there are several); None with
        ``return_predictions=False``."""
        self._weights_only = weights_only
        self._start(TrainerFn.PREDICTING, RunningStage.PREDICTING)
        return self._call_and_handle_interrupt(self._predict, model, dataloaders, datamodule, return_predictions,
                                               ckpt_path)

    def _predict(self, model, dataloaders, datamodule, return_predictions, ckpt_path):
        if isinstance(dataloaders, LightningDataModule):
            datamodule, dataloaders = dataloaders, None
        if self._must_launch():
            return launch(self, "predict", model, dataloaders, datamodule, return_predictions, ckpt_path)
        if model is None and self.lightning_module is None:
            self._attach(None, datamodule, "predict")   # raises Lightning's TypeError
        ckpt_path = self._select_ckpt_path("predict", ckpt_path, model_provided=model is not None)
        model = self._attach(model or self.lightning_module, datamodule, "predict")
        self._reset_metrics()
        self._load_weights(ckpt_path)
        loaders = _as_list(dataloaders if dataloaders is not None else self._loader("predict_dataloader"))
        loaders = [self._distribute(loader, predict=True) for loader in loaders]
        self.num_predict_batches = [_limit(loader, self.limit_predict_batches) for loader in loaders]
        from ..callbacks import BasePredictionWriter
        writers = [c for c in self.callbacks if isinstance(c, BasePredictionWriter)]
        on_batch, on_epoch = any(w.interval.on_batch for w in writers), any(w.interval.on_epoch for w in writers)
        if writers:   # the batch indices they get, recorded as Lightning's wrapped batch sampler does
            loaders = [_IndexRecorder.wrap(loader) for loader in loaders]
        self.predict_dataloaders = loaders
        loop = self.predict_loop = _PredictLoop(len(loaders), True if return_predictions is None else
                                                return_predictions)
        modes = self._model_eval("on_predict_model_eval")
        with ember.no_grad():
            self._call_hook("on_predict_start")
            self._strategy_hook("on_predict_start")
            self._call_hook("on_predict_epoch_start")
            for index, loader in enumerate(loaders):
                for batch_idx, batch in self._batches(loader, self.limit_predict_batches,
                                                            "[_PredictionLoop].predict_next"):
                    extra = (index,) if len(loaders) > 1 else ()
                    batch = self._transfer(batch, index)
                    if writers:
                        indices = _IndexRecorder.indices(loader)
                        if indices is None:
                            if batch_idx == 0:   # once, as Lightning's warning cache
                                rank_zero_warn("Couldn't infer the batch indices fetched from your dataloader: "
                                               f"`{type(loader).__name__}`")
                        else:
                            if on_epoch:
                                loop.epoch_batch_indices[index].append(indices[batch_idx])
                            if on_batch:
                                loop.current_batch_indices = indices[batch_idx]
                    self._call_hook("on_predict_batch_start", batch, batch_idx, *extra)
                    output = self._step(model, "predict_step", batch, batch_idx, extra)
                    self._call_hook("on_predict_batch_end", output, batch, batch_idx, *extra)
                    if loop.return_predictions or on_epoch:
                        loop._predictions[index].append(output)
            self._call_hook("on_predict_epoch_end")
            results = loop.predictions if loop.return_predictions else None
            if not loop.return_predictions:
                loop._predictions = []
            loop.epoch_batch_indices = []
            self._call_hook("on_predict_end")
            self._strategy_hook("on_predict_end")
        self._model_train(None, modes)
        self._detach("predict")
        self._finish()
        return results

    def _start(self, fn, stage):
        """Marks the entry point ``fn`` as running, in ``stage``, as Lightning's entry points do."""
        self.state.fn, self.state.status, self.state.stage = fn, TrainerStatus.RUNNING, stage

    def _finish(self):
        """Marks the run as finished, with no stage running."""
        self.state.status, self.state.stage = TrainerStatus.FINISHED, None

    def _call_and_handle_interrupt(self, run, *args):
        """Runs an entry point as Lightning does: an exception calls the callbacks' (and the datamodule's)
        ``on_exception`` and is raised again; Ctrl+C shuts down gracefully and exits with status 1."""
        try:
            return run(*args)
        except TunerExit:
            raise
        except KeyboardInterrupt as exception:
            import signal
            import sys
            rank_zero_info("\nDetected KeyboardInterrupt, attempting graceful shutdown ...")
            # more Ctrl+C would interrupt the shutdown; the handler comes back after it, as Lightning's signal
            # connector restores it
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                self._interrupt(exception)
                self.strategy.teardown()
            finally:
                signal.signal(signal.SIGINT, previous)
            sys.exit(1)
        except BaseException as exception:
            self._interrupt(exception)
            self.strategy.teardown()
            self.state.stage = None   # after the teardown, which may read it, as Lightning
            raise

    def _interrupt(self, exception):
        self.state.status = TrainerStatus.INTERRUPTED
        for callback in self.callbacks:
            self._call_callback(callback, "on_exception", exception)
        if self.datamodule is not None:
            self._call_datamodule("on_exception", exception)

    # --- set-up ---------------------------------------------------------------------------------------------
    def _attach(self, model, datamodule, stage, val_given=False):
        from ..module import LightningModule
        if model is None:
            raise TypeError(f"`Trainer.{stage}()` requires a `LightningModule` when it hasn't been passed in a "
                            "previous run")
        if not isinstance(model, LightningModule):
            raise TypeError(f"`model` must be a `LightningModule`, got `{type(model).__qualname__}`")
        self.strategy.setup_environment()
        self.lightning_module, self.datamodule = model, datamodule
        model.trainer = self
        if datamodule is not None:
            datamodule.trainer = self
        # Lightning's order: the module's callbacks, prepare_data (datamodule, module), setup (datamodule,
        # callbacks, module), configure_model
        self.callbacks = _checkpoints_last(self.callbacks + [c for c in _as_list(self._call_module(
            "configure_callbacks")) if c not in self.callbacks])
        self._verify_loop_configuration(stage, val_given)
        # the profiler learns the module (PyTorchProfiler names its layers), the stage (its report's title) and the
        # default folder of its files
        self.profiler._lightning_module = weakref.proxy(model)
        self.profiler.setup(stage=stage, local_rank=self.local_rank if self.world_size > 1 else None,
                            log_dir=self.log_dir)
        if datamodule is not None:
            self._call_overridden(datamodule, LightningDataModule, "prepare_data")
        self._call_overridden(model, LightningModule, "prepare_data")
        if self.precision == "64-true":
            model.double()
        if datamodule is not None:
            self._call_datamodule("setup", stage)
        for callback in self.callbacks:
            self._call_callback(callback, "setup", stage)
        self._call_module("setup", stage)
        self._call_overridden(model, LightningModule, "configure_model")
        return model

    def _call_overridden(self, owner, base, name):
        """Calls the module's or datamodule's hook ``name`` (profiled) where it is overridden, as Lightning calls
        ``prepare_data`` and ``configure_model``."""
        if not _is_overridden(name, owner, base):
            return None
        return self._call_module(name) if owner is self.lightning_module else self._call_datamodule(name)

    def _log_hyperparams(self):
        """Gives the loggers the module's and the datamodule's saved hyperparameters, merged (a key both hold with
        different values is an error), as Lightning does when fitting starts (unless ``enable_autolog_hparams`` is
        False)."""
        if not self.loggers or not self.enable_autolog_hparams:
            return
        model, datamodule = self.lightning_module, self.datamodule
        model_logs = getattr(model, "_log_hyperparams", True)
        datamodule_logs = getattr(datamodule, "_log_hyperparams", True) if datamodule is not None else False
        hparams = None
        if model_logs and datamodule_logs:
            ours, theirs = model.hparams_initial, datamodule.hparams_initial
            inconsistent = [key for key in ours.keys() & theirs.keys() if key != "_class_path" and (
                type(ours[key]) is not type(theirs[key]) or (isinstance(ours[key], ember.Tensor) and ours[key] is not
                                                             theirs[key]) or ours[key] != theirs[key])]
            if inconsistent:
                raise RuntimeError(f"Error while merging hparams: the keys {inconsistent} are present in both the "
                                   "LightningModule's and LightningDataModule's hparams but have different values.")
            hparams = {**ours, **theirs}
        elif model_logs:
            hparams = model.hparams_initial
        elif datamodule_logs:
            hparams = datamodule.hparams_initial
        for logger in self._rank_zero_loggers():
            if hparams is not None:
                logger.log_hyperparams({k: v for k, v in hparams.items() if k != "_class_path"})
            logger.log_graph(model)
            logger.save()

    def _verify_loop_configuration(self, stage, val_given):
        """Lightning's checks of what the module defines for ``stage``: the steps it needs, the validation loop
        skipped (with a warning) when the step or the data is missing, the ``*_epoch_end`` hooks removed in 2.0."""
        from ..module import LightningModule
        from ..utilities.exceptions import MisconfigurationException
        model = self.lightning_module
        name = type(model).__name__
        removed = ("Support for `{0}` has been removed in v2.0.0. `{1}` implements this method. You can use the "
                   "`on_{0}` hook instead. To access outputs, save them in-memory as instance attributes. You can "
                   "find migration examples in https://github.com/Lightning-AI/pytorch-lightning/pull/16520.")
        if stage == "fit":
            for step in ("training_step", "configure_optimizers"):
                if not _is_overridden(step, model, LightningModule):
                    raise MisconfigurationException(
                        f"No `{step}()` method defined. Lightning `Trainer` expects as minimum a `training_step()`, "
                        "`train_dataloader()` and `configure_optimizers()` to be defined.")
            if self.datamodule is not None:
                from ..datamodule import LightningDataModule
                has_val_loader = _is_overridden("val_dataloader", self.datamodule, LightningDataModule)
            else:
                has_val_loader = _is_overridden("val_dataloader", model, LightningModule)
            self._has_val_loader = has_val_loader = has_val_loader or val_given
            self._has_val_step = _is_overridden("validation_step", model, LightningModule)
            if has_val_loader and not self._has_val_step:
                rank_zero_warn("You passed in a `val_dataloader` but have no `validation_step`. Skipping val loop.")
            if self._has_val_step and not has_val_loader:
                rank_zero_warn("You defined a `validation_step` but have no `val_dataloader`. Skipping val loop.",
                               category=PossibleUserWarning)
            for hook in ("training_epoch_end", "validation_epoch_end"):
                if callable(getattr(model, hook, None)):
                    raise NotImplementedError(removed.format(hook, name).replace(
                        "`on_training_epoch_end`", "`on_train_epoch_end`"))
        elif stage == "predict":
            if not _is_overridden("predict_step", model, LightningModule) and not _is_overridden(
                    "forward", model, LightningModule):
                raise MisconfigurationException("`Trainer.predict` requires `forward` method to run.")
        else:
            step = "validation_step" if stage == "validate" else "test_step"
            if not _is_overridden(step, model, LightningModule):
                raise MisconfigurationException(f"No `{step}()` method defined to run `Trainer.{stage}`.")
            hook = "validation_epoch_end" if stage == "validate" else "test_epoch_end"
            if callable(getattr(model, hook, None)):
                raise NotImplementedError(removed.format(hook, name))

    def _detach(self, stage):
        if self.datamodule is not None:
            self._call_datamodule("teardown", stage)
        for callback in self.callbacks:
            self._call_callback(callback, "teardown", stage)
        self._call_module("teardown", stage)
        for logger in self._rank_zero_loggers():
            logger.finalize("success")
        self.profiler.describe()   # the stage's profile report, as Lightning writes it after teardown

    def _rank_zero_loggers(self):
        """The loggers that write from this process: all on rank 0, none elsewhere (Lightning's rank_zero_only)."""
        return self.loggers if self.is_global_zero else []

    def _must_launch(self):
        """Whether this lone process has to start the ranks of a distributed run itself."""
        return isinstance(self.strategy, DDPStrategy) and self.world_size > 1 and not self.strategy.launched()

    def _distribute(self, loader, shuffle=None, predict=False):
        """``loader`` with a DistributedSampler giving this rank its share, as Lightning injects one: training
        loaders are shuffled (seeded by PL_GLOBAL_SEED), evaluation ones keep their order; prediction's is not
        padded."""
        kwargs = self.distributed_sampler_kwargs
        if kwargs is None or not self.use_distributed_sampler or not isinstance(loader, ember.utils.data.DataLoader):
            return loader
        data = ember.utils.data
        sampler = loader.sampler
        if isinstance(sampler, data.DistributedSampler) or isinstance(loader.dataset, data.IterableDataset):
            return loader
        if not isinstance(sampler, (data.RandomSampler, data.SequentialSampler)) or loader.batch_size is None:
            raise ValueError(f"ember.lightning can put a DistributedSampler only into a DataLoader with a "
                             f"RandomSampler or SequentialSampler and a batch_size (got {type(sampler).__name__}); "
                             f"pass `use_distributed_sampler=False` and shard the data yourself")
        if shuffle is None:
            shuffle = isinstance(sampler, data.RandomSampler)
        distributed = data.DistributedSampler(loader.dataset, shuffle=shuffle and not self._overfit,
                                              seed=int(os.environ.get("PL_GLOBAL_SEED", "0")), **kwargs)
        if predict:
            distributed = _Unrepeated(distributed)
        return data.DataLoader(loader.dataset, batch_size=loader.batch_size, sampler=distributed,
                               num_workers=loader.num_workers, collate_fn=loader.collate_fn,
                               pin_memory=loader.pin_memory, drop_last=loader.drop_last, timeout=loader.timeout,
                               worker_init_fn=loader.worker_init_fn, generator=loader.generator,
                               prefetch_factor=loader.prefetch_factor, persistent_workers=loader.persistent_workers,
                               multiprocessing_context=loader.multiprocessing_context)

    def _new_results(self):
        return _results.ResultCollection(self.strategy.reduce if self.world_size > 1 else None)

    def _loader(self, name, optional=False):
        source = self.datamodule if self.datamodule is not None else self.lightning_module
        hook = getattr(source, name, None)
        if hook is None:
            return [] if optional else None
        kind = "LightningDataModule" if source is self.datamodule else "LightningModule"
        try:
            with self.profiler.profile(f"[{kind}]{type(source).__name__}.{name}"):
                loader = hook()
        except RuntimeError:
            if optional:
                return []
            raise
        if loader is None and not optional:
            raise ValueError(f"An invalid dataloader was passed to `Trainer`: `{name}` returned None")
        return loader if loader is not None else []

    def _setup_optimizers(self, model):
        if not model.automatic_optimization:
            for option, value, what in (("gradient_clip_val", self.gradient_clip_val or 0, "gradient clipping"),
                                        ("accumulate_grad_batches", self.accumulate_grad_batches - 1,
                                         "gradient accumulation")):
                if value > 0:
                    raise ValueError(f"Automatic {what} is not supported for manual optimization. Remove "
                                     f"`Trainer({option}={getattr(self, option)})` or switch to automatic "
                                     "optimization.")
        self.optimizers, self.lr_scheduler_configs = configure_optimizers(self._call_module("configure_optimizers"))
        if not self.optimizers:
            warnings.warn("`LightningModule.configure_optimizers` returned `None`, this fit will run with no "
                          "optimizer")
        if model.automatic_optimization and len(self.optimizers) > 1:
            raise RuntimeError("Training with multiple optimizers is only supported with manual optimization. Set "
                               "`self.automatic_optimization = False`, then access your optimizers in "
                               "`training_step` with `opt1, opt2, ... = self.optimizers()`.")
        if self.precision == "16-mixed":
            self._scaler = ember.amp.GradScaler()

    # --- training -------------------------------------------------------------------------------------------
    def _fit_done(self):
        """Whether fit ends here; says why, as Lightning's fit loop does."""
        if self.num_training_batches == 0:
            rank_zero_info("`Trainer.fit` stopped: No training batches.")
            return True
        if self.max_steps != -1 and self.global_step >= self.max_steps:
            rank_zero_info(f"`Trainer.fit` stopped: `max_steps={self.max_steps!r}` reached.")
            return True
        if self.max_epochs != -1 and self.current_epoch >= self.max_epochs:
            rank_zero_info(f"`Trainer.fit` stopped: `max_epochs={self.max_epochs!r}` reached.")
            return True
        if self.should_stop:
            can_stop = (self.min_epochs is None or self.current_epoch >= self.min_epochs) and (
                self.min_steps is None or self.global_step >= self.min_steps)
            if can_stop:
                return True
            self.should_stop = False
        return False

    def _train_epoch(self, loader, val_loaders):
        model = self.lightning_module
        self._results = self._new_results()
        self._epoch_stage = 1
        if hasattr(getattr(loader, "sampler", None), "set_epoch"):
            loader.sampler.set_epoch(self.current_epoch)
        start, self._resume_batch = self._resume_batch, 0
        self._epoch_start_step = self.global_step - math.ceil(start / self.accumulate_grad_batches)
        self._epoch_start_scheduler_steps = self._scheduler_steps
        if not start:   # a mid-epoch resume continues the epoch: it has started already
            self._call_hook("on_train_epoch_start")
        last = self.num_training_batches - 1
        validate_every = self._validation_batches()
        self._batches_completed = start
        with self.profiler.profile("run_training_epoch"):
            for batch_idx, batch in self._batches(loader, self.limit_train_batches,
                                                  "[_TrainingEpochLoop].train_dataloader_next", start):
                batch = self._transfer(batch, 0)
                self._results.batch_size = _results.extract_batch_size(batch)
                response = self._call_hook("on_train_batch_start", batch, batch_idx)
                self._strategy_hook("on_train_batch_start")
                if response == -1:
                    break
                with self.profiler.profile("run_training_batch"):
                    if model.automatic_optimization:
                        output = self._automatic_step(model, batch, batch_idx, last)
                    else:
                        with self._autocast():
                            output = _manual_output(self._step(model, "training_step", batch, batch_idx))
                self._refresh_step_metrics()
                self._in_batch_end = True
                self._call_hook("on_train_batch_end", output, batch, batch_idx)
                self._in_batch_end = False
                self._batches_completed = batch_idx + 1
                end_of_epoch = batch_idx == last
                stepped = (batch_idx + 1) % self.accumulate_grad_batches == 0 or end_of_epoch
                self._log_step(to_loggers=stepped or not model.automatic_optimization)
                if stepped:
                    self._batches_that_stepped += 1
                    self._step_pending = True
                if val_loaders and self._should_validate(batch_idx, validate_every, end_of_epoch):
                    self.validating = True
                    self._call_module("on_validation_model_zero_grad")
                    self._validation_loop(val_loaders)
                    self.training = True
                self._step_pending = False
                if self._fit_done_mid_epoch():
                    break
        self._step_schedulers("epoch", plateau=False)
        self._epoch_end_metrics(self._results, "train", log=False)
        self._epoch_stage = 2
        self._call_hook("on_train_epoch_end", monitoring=False)
        self._call_hook("on_train_epoch_end", monitoring=True)
        self._epoch_end_metrics(self._results, "train")
        self._results.reset_metric_objects()
        self._step_schedulers("epoch", plateau=True)
        self._epoch_stage = 0

    def _fit_done_mid_epoch(self):
        return (self.max_steps != -1 and self.global_step >= self.max_steps) or (
            self.should_stop and (self.min_epochs is None or self.current_epoch >= self.min_epochs))

    def _validation_batches(self):
        interval = self.val_check_interval
        if isinstance(interval, int) and not isinstance(interval, bool):
            return interval
        return max(1, int(self.num_training_batches * interval))

    def _should_validate(self, batch_idx, every, end_of_epoch):
        every_n_epochs = self.check_val_every_n_epoch
        if not any(self.num_val_batches) or every_n_epochs is not None and (self.current_epoch + 1) % every_n_epochs:
            return False
        if every_n_epochs is None:   # every `every` batches of the whole fit, as Lightning's total_batch_idx counts
            batch_idx += self.current_epoch * self.num_training_batches
        return (batch_idx + 1) % every == 0 or (end_of_epoch and self.val_check_interval == 1.0)

    def _automatic_step(self, model, batch, batch_idx, last):
        if not self.optimizers:
            with self._autocast():
                return self._step(model, "training_step", batch, batch_idx)
        optimizer = self.optimizers[0]
        stepping = (batch_idx + 1) % self.accumulate_grad_batches == 0 or batch_idx == last
        output = None

        def closure():
            nonlocal output
            with self._autocast():
                output = self._step(model, "training_step", batch, batch_idx)
            loss = _training_loss(output)
            if self._skip_backward:
                return loss
            if batch_idx % self.accumulate_grad_batches == 0:
                self._call_hook("on_before_zero_grad", optimizer)
                self._call_module("optimizer_zero_grad", self.current_epoch, batch_idx, optimizer)
            if loss is None:
                return None
            self._backward(loss / self.accumulate_grad_batches)
            return loss

        if stepping:   # through the module's optimizer_step, which a user may override
            from ..module import LightningOptimizer
            self._call_module("optimizer_step", self.current_epoch, batch_idx, LightningOptimizer(optimizer, self),
                              closure)
            self._step_schedulers("step", plateau=False, batch_idx=batch_idx)
        else:
            with self.strategy.block_backward_sync():
                closure()
        return self._batch_end_output(output)

    def _batch_end_output(self, output):
        """What ``on_train_batch_end`` receives under automatic optimization, as Lightning gives it: ``{}`` for a
        skipped step, else a dict whose ``"loss"`` is detached and divided by ``accumulate_grad_batches``."""
        loss = _training_loss(output)
        if loss is None:
            return {}
        extra = output if isinstance(output, dict) else {}
        return {"loss": loss.detach() / self.accumulate_grad_batches,
                **{k: v.detach() if isinstance(v, ember.Tensor) else v for k, v in extra.items() if k != "loss"}}

    def _backward(self, loss, *args, **kwargs):
        """The backward pass of automatic optimization, profiled as Lightning's strategy hook."""
        with self._profile_strategy("backward"):
            self._run_backward(loss, *args, **kwargs)

    def _run_backward(self, loss, *args, **kwargs):
        """The backward pass as Lightning's precision plugin runs it: the loss scaled (16-bit mixed precision), the
        on_before_backward hooks, the module's ``backward``, the on_after_backward hooks (``manual_backward`` comes
        here directly, unprofiled, as in Lightning)."""
        if self._scaler is not None:
            loss = self._scaler.scale(loss)
        self._call_hook("on_before_backward", loss)
        self._run_module_hook("backward", loss, *args, **kwargs)
        self._call_hook("on_after_backward")

    def _optimizer_step(self, optimizer, closure=None, **kwargs):
        """One optimizer step: the closure (forward and backward), the hooks, clipping, the update; counts it. Under
        manual optimization the profiler records it as ``optimizer_step``, as Lightning's manual loop does."""
        if self.lightning_module.automatic_optimization:
            return self._run_optimizer_step(optimizer, closure, **kwargs)
        with self.profiler.profile("optimizer_step"):
            return self._run_optimizer_step(optimizer, closure, **kwargs)

    def _run_optimizer_step(self, optimizer, closure=None, **kwargs):
        loss = closure() if closure is not None else None
        if self._scaler is not None:
            self._scaler.unscale_(optimizer)
        self._call_hook("on_before_optimizer_step", optimizer)
        if self.lightning_module.automatic_optimization:   # every step, as Lightning (its default clips if asked)
            self._call_module("configure_gradient_clipping", optimizer, gradient_clip_val=self.gradient_clip_val,
                              gradient_clip_algorithm=self.gradient_clip_algorithm)
        if closure is None or loss is not None:
            if self._scaler is not None:
                self._scaler.step(optimizer, **kwargs)
                self._scaler.update()
            else:
                optimizer.step(**kwargs)
        self.global_step += 1

    def _step_schedulers(self, interval, plateau, batch_idx=None):
        """Steps the schedulers due at this point; under manual optimization none (the user steps them)."""
        if interval == "step" and batch_idx is None or not self.lightning_module.automatic_optimization:
            return
        for config in self.lr_scheduler_configs:
            if config.reduce_on_plateau != plateau or config.interval != interval:
                continue
            index = (batch_idx if interval == "step" else self.current_epoch) + 1
            if index % config.frequency:
                continue
            if config.reduce_on_plateau:
                value = self.callback_metrics.get(config.monitor)
                if value is None:
                    if config.strict:
                        raise RuntimeError(f"ReduceLROnPlateau conditioned on metric {config.monitor} which is not "
                                           f"available. Available metrics are: {sorted(self.callback_metrics)}. "
                                           "Condition can be set using `monitor` key in lr scheduler dict")
                    warnings.warn(f"ReduceLROnPlateau conditioned on metric {config.monitor} which is not available "
                                  "but strict is set to `False`. Skipping learning rate update.")
                    continue
                self._call_module("lr_scheduler_step", config.scheduler, value)
            else:
                self._call_module("lr_scheduler_step", config.scheduler, None)
            self._scheduler_steps += 1

    # --- validation and test --------------------------------------------------------------------------------
    def _sanity_check(self, loaders):
        stage = self.state.stage
        self.sanity_checking = True
        for callback in self.callbacks:
            self._call_callback(callback, "on_sanity_check_start")
        saved = dict(self.callback_metrics), dict(self.logged_metrics), dict(self.progress_bar_metrics)
        self._validation_loop(loaders, limit=self.num_sanity_val_batches)
        self.callback_metrics, self.logged_metrics, self.progress_bar_metrics = (dict(s) for s in saved)
        for callback in self.callbacks:
            self._call_callback(callback, "on_sanity_check_end")
        self.state.stage = stage

    def _validation_loop(self, loaders, limit=None):
        model = self.lightning_module
        training_results, self._results = self._results, self._new_results()
        modes = self._model_eval("on_validation_model_eval")
        with ember.no_grad():
            self._call_hook("on_validation_start")
            self._strategy_hook("on_validation_start")
            self._call_hook("on_validation_epoch_start")
            self._val_batches_run = self._run_batches("validation", loaders,
                                                      limit if limit is not None else self.limit_val_batches, model)
            self._epoch_end_metrics(self._results, "validation", log=False)
            self._call_hook("on_validation_epoch_end")
            self._epoch_end_metrics(self._results, "validation", log=not self.sanity_checking)
            self._results.reset_metric_objects()
            self._call_hook("on_validation_end")
            self._strategy_hook("on_validation_end")
        self._results = training_results
        self._model_train("on_validation_model_train", modes)

    def _model_eval(self, hook):
        """Calls the ``on_*_model_eval`` hook (which puts the model in eval mode); returns each module's mode before."""
        modes = {name: module.training for name, module in self.lightning_module.named_modules()}
        self._call_module(hook)
        return modes

    def _model_train(self, hook, modes):
        """Undoes ``_model_eval``: the ``on_*_model_train`` hook where the user overrides it, else each module gets
        its mode back."""
        from ..module import LightningModule
        model = self.lightning_module
        if hook is not None and getattr(type(model), hook) is not getattr(LightningModule, hook):
            self._call_module(hook)
            return
        for name, module in model.named_modules():
            if name in modes:
                module.training = modes[name]

    def _run_batches(self, stage, loaders, limit, model):
        """Runs ``{stage}_step`` over the loaders' batches (up to ``limit`` each, or a list: each loader's); returns
        how many ran."""
        self._results.multiple_dataloaders = len(loaders) > 1
        prefix = "val" if stage == "validation" else stage
        limits = limit if isinstance(limit, list) else [limit] * len(loaders)
        count = 0
        for index, loader in enumerate(loaders):
            self._results.dataloader_idx = index
            limit = 1.0 if limits[index] == float("inf") else limits[index]
            for batch_idx, batch in self._batches(loader, limit, f"[_EvaluationLoop].{prefix}_next"):
                extra = (index,) if len(loaders) > 1 else ()
                batch = self._transfer(batch, index)
                self._results.batch_size = _results.extract_batch_size(batch)
                self._call_hook(f"on_{stage}_batch_start", batch, batch_idx, *extra)
                with self._autocast():
                    output = self._step(model, f"{stage}_step", batch, batch_idx, extra)
                self._call_hook(f"on_{stage}_batch_end", output, batch, batch_idx, *extra)
                count += 1
        return count

    def _evaluate(self, stage, model, dataloaders, ckpt_path, verbose, datamodule):
        if isinstance(dataloaders, LightningDataModule):
            datamodule, dataloaders = dataloaders, None
        if model is None and self.lightning_module is None:
            self._attach(None, datamodule, stage)   # raises Lightning's TypeError
        ckpt_path = self._select_ckpt_path(stage, ckpt_path, model_provided=model is not None)
        model = self._attach(model or self.lightning_module, datamodule, stage)
        self._load_weights(ckpt_path)
        hook = "val_dataloader" if stage == "validate" else "test_dataloader"
        loaders = [self._distribute(loader) for loader in
                   _as_list(dataloaders if dataloaders is not None else self._loader(hook))]
        step = "validation" if stage == "validate" else "test"
        limit = self.limit_val_batches if stage == "validate" else self.limit_test_batches
        if stage == "validate":
            self.num_val_batches = [_limit(loader, limit) for loader in loaders]
        else:
            self.num_test_batches = [_limit(loader, limit) for loader in loaders]
        self._results = self._new_results()
        self._reset_metrics()
        modes = self._model_eval(f"on_{'validation' if stage == 'validate' else 'test'}_model_eval")
        with ember.no_grad():
            self._call_hook(f"on_{step}_start")
            self._strategy_hook(f"on_{step}_start")
            self._call_hook(f"on_{step}_epoch_start")
            self._run_batches(step, loaders, limit, model)
            self._call_hook(f"on_{step}_epoch_end")
            metrics = self._epoch_end_metrics(self._results, step)
            self._results.reset_metric_objects()
            self._call_hook(f"on_{step}_end")
            self._strategy_hook(f"on_{step}_end")
        self._model_train(f"on_{step}_model_train", modes)
        results = []
        for index in range(len(loaders)):
            suffix = f"/dataloader_idx_{index}"
            results.append({name: float(value) for name, value in metrics.items()
                            if len(loaders) == 1 or name.endswith(suffix) or "/dataloader_idx_" not in name})
        if verbose and self.is_global_zero:
            _print_results(stage, results)
        self._detach(stage)
        self._finish()
        return results

    def _load_weights(self, ckpt_path):
        self._ckpt_path = ckpt_path
        if ckpt_path is None:
            return
        checkpoint = self._load_checkpoint(ckpt_path)   # the weights, the datamodule's and callbacks' state
        self._restore_modules_and_callbacks(checkpoint)
        rank_zero_info(f"Loaded model weights from the checkpoint at {ckpt_path}")


_trainer_docs.document(Trainer)
