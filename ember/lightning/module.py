"""LightningModule: an ``nn.Module`` that says how it trains (``training_step``, ``configure_optimizers``, ...) and
logs (``self.log``); the Trainer runs the loop around it. Lightning 2.x's API."""
import copy
import inspect
import warnings

import ember
from ember import nn

from . import _results
from .datamodule import HyperparametersMixin


class LightningOptimizer:
    """What ``self.optimizers()`` returns: the optimizer, whose ``step`` also counts the trainer's global step."""

    def __init__(self, optimizer, trainer):
        self._optimizer, self._trainer = optimizer, trainer

    def __getattr__(self, name):
        return getattr(self._optimizer, name)

    @property
    def optimizer(self):
        """The wrapped ``ember.optim`` optimizer."""
        return self._optimizer

    def step(self, closure=None, **kwargs):
        """Steps the optimizer (with ``closure`` when given), as in manual optimization."""
        self._trainer._optimizer_step(self._optimizer, closure, **kwargs)

    def zero_grad(self, set_to_none=True):
        """Clears the gradients of the optimizer's parameters."""
        self._optimizer.zero_grad(set_to_none=set_to_none)


class LightningModule(HyperparametersMixin, nn.Module):
    """A model with its training, validation, test and prediction steps, optimizers and hooks."""

    CHECKPOINT_HYPER_PARAMS_KEY = "hyper_parameters"
    CHECKPOINT_HYPER_PARAMS_NAME = "hparams_name"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.automatic_optimization = True
        self._trainer = None
        self._current_fx = None
        self.example_input_array = None

    # --- what the trainer provides --------------------------------------------------------------------------
    @property
    def trainer(self):
        """The Trainer this module is attached to."""
        if self._trainer is None:
            raise RuntimeError(f"{type(self).__name__} is not attached to a `Trainer`.")
        return self._trainer

    @trainer.setter
    def trainer(self, trainer):
        self._trainer = trainer

    def __getstate__(self):
        """The module's state without its Trainer: copies and pickles leave it out, as in Lightning."""
        state = super().__getstate__()
        state["_trainer"] = None
        return state

    @property
    def device(self):
        """The device of the module's parameters (cpu when it has none)."""
        for parameter in self.parameters():
            return parameter.device
        return ember.device("cpu")

    @property
    def dtype(self):
        """The dtype of the module's floating-point parameters."""
        for parameter in self.parameters():
            if parameter.dtype.is_floating_point:
                return parameter.dtype
        return ember.get_default_dtype()

    @property
    def current_epoch(self):
        """The epoch the trainer is in (0 before fitting)."""
        return self._trainer.current_epoch if self._trainer is not None else 0

    @property
    def global_step(self):
        """The number of optimizer steps taken so far."""
        return self._trainer.global_step if self._trainer is not None else 0

    @property
    def logger(self):
        """The trainer's first logger, or None."""
        return self._trainer.logger if self._trainer is not None else None

    @property
    def loggers(self):
        """The trainer's loggers."""
        return self._trainer.loggers if self._trainer is not None else []

    @property
    def on_gpu(self):
        """Whether the module's parameters are on a CUDA device."""
        return self.device.type == "cuda"

    @property
    def global_rank(self):
        """This process's rank among all (0 without a trainer)."""
        return self._trainer.global_rank if self._trainer is not None else 0

    @property
    def local_rank(self):
        """This process's rank on its machine (0 without a trainer)."""
        return self._trainer.local_rank if self._trainer is not None else 0

    # --- export ---------------------------------------------------------------------------------------------
    def to_torchscript(self, file_path=None, method="script", example_inputs=None, **kwargs):
        """The module compiled by ``ember.jit.script`` (or traced with ``example_inputs``, default the
        ``example_input_array``, when ``method="trace"``), saved to ``file_path`` when given; the mode is kept.
        Deprecated in Lightning, with its warning."""
        from .utilities.rank_zero import rank_zero_deprecation
        rank_zero_deprecation("`LightningModule.to_torchscript` has been deprecated in v2.7 and will be removed in "
                              "v2.8. TorchScript is deprecated in PyTorch. Use `torch.export.export()` for model "
                              "exporting instead. See https://pytorch.org/docs/stable/export.html for more "
                              "information.")
        mode = self.training
        if method == "script":
            compiled = ember.jit.script(self.eval(), **kwargs)
        elif method == "trace":
            if example_inputs is None:
                if self.example_input_array is None:
                    raise ValueError("Choosing method=`trace` requires either `example_inputs` or "
                                     "`model.example_input_array` to be defined.")
                example_inputs = self.example_input_array
            compiled = ember.jit.trace(func=self.eval(), example_inputs=example_inputs, **kwargs)
        else:
            raise ValueError(f"The 'method' parameter only supports 'script' or 'trace', but value given was: {method}")
        self.train(mode)
        if file_path is not None:
            ember.jit.save(compiled, file_path)
        return compiled

    def to_onnx(self, file_path, input_sample=None, **kwargs):
        """Exports the module to ONNX at ``file_path`` with ``input_sample`` (default the ``example_input_array``)."""
        mode = self.training
        if input_sample is None:
            if self.example_input_array is None:
                raise ValueError("Could not export to ONNX since neither `input_sample` nor "
                                 "`model.example_input_array` attribute is set.")
            input_sample = self.example_input_array
        ember.onnx.export(self.eval(), input_sample, file_path, **kwargs)
        self.train(mode)

    # --- logging --------------------------------------------------------------------------------------------
    def log(self, name, value, prog_bar=False, logger=None, on_step=None, on_epoch=None, reduce_fx="mean",
            enable_graph=False, sync_dist=False, sync_dist_group=None, add_dataloader_idx=True, batch_size=None,
            metric_attribute=None, rank_zero_only=False):
        """Records a metric: per step, per epoch (a batch-size-weighted mean by default) or both."""
        if self._trainer is None:
            warnings.warn("You are trying to `self.log()` but the `self.trainer` reference is not registered on the "
                          "model yet. This is most likely because the model hasn't been passed to the `Trainer`")
            return
        if self._current_fx is None:
            raise RuntimeError("You are trying to `self.log()` outside of a hook the Trainer calls.")
        if metric_attribute is None and _results.is_torchmetric(value):
            self._find_metric_attribute(name, value)
        self._trainer._results.log(self._current_fx, name, value, prog_bar=prog_bar, logger=logger,
                                   on_step=on_step, on_epoch=on_epoch, reduce_fx=reduce_fx, sync_dist=sync_dist,
                                   add_dataloader_idx=add_dataloader_idx, batch_size=batch_size)

    def _find_metric_attribute(self, name, value):
        """The name of the submodule a logged ``torchmetrics.Metric`` is; Lightning's error when it is none."""
        attributes = {id(module): path for path, module in self.named_modules() if _results.is_torchmetric(module)}
        message = "Could not find the `LightningModule` attribute for the `torchmetrics.Metric` logged."
        from .utilities.exceptions import MisconfigurationException
        if not attributes:
            raise MisconfigurationException(f"{message} You can fix this by setting an attribute for the metric in "
                                            "your `LightningModule`.")
        if id(value) not in attributes:
            raise MisconfigurationException(f"{message} You can fix this by calling `self.log({name}, ..., "
                                            f"metric_attribute=name)` where `name` is one of "
                                            f"{list(attributes.values())}")
        return attributes[id(value)]

    def log_dict(self, dictionary, prog_bar=False, logger=None, on_step=None, on_epoch=None, reduce_fx="mean",
                 enable_graph=False, sync_dist=False, sync_dist_group=None, add_dataloader_idx=True, batch_size=None,
                 rank_zero_only=False):
        """``self.log`` for each key and value of ``dictionary``."""
        for name, value in dictionary.items():
            self.log(name, value, prog_bar=prog_bar, logger=logger, on_step=on_step, on_epoch=on_epoch,
                     reduce_fx=reduce_fx, sync_dist=sync_dist, add_dataloader_idx=add_dataloader_idx,
                     batch_size=batch_size)

    def all_gather(self, data, group=None, sync_grads=False):
        """``data`` (a tensor) from every process, stacked along a new first dimension when there are several."""
        return self.trainer.strategy.all_gather(data, group=group, sync_grads=sync_grads)

    def print(self, *args, **kwargs):
        """Prints once per process group (on rank 0), through the progress bar when one is shown."""
        if self._trainer is None or self._trainer.is_global_zero:
            bar = self._trainer.progress_bar_callback if self._trainer is not None else None
            if bar is not None and bar.is_enabled:
                bar.print(*args, **kwargs)
            else:
                print(*args, **kwargs)

    # --- what the user defines --------------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        return super().forward(*args, **kwargs)

    def training_step(self, *args, **kwargs):
        """One training batch: returns the loss (a Tensor, a dict with ``"loss"``, or None to skip the batch)."""
        raise RuntimeError("No `training_step()` method defined. Lightning `Trainer` expects as minimum a "
                           "`training_step()`, `train_dataloader()` and `configure_optimizers()` to be defined.")

    def validation_step(self, *args, **kwargs):
        """One validation batch."""

    def test_step(self, *args, **kwargs):
        """One test batch."""

    def predict_step(self, batch, batch_idx=0, dataloader_idx=0):
        """One prediction batch; by default the module's output on it."""
        return self(batch)

    def configure_optimizers(self):
        """The optimizers and learning-rate schedulers to train with."""
        raise RuntimeError("`configure_optimizers` must be implemented to be used with the Lightning Trainer")

    def configure_callbacks(self):
        """Callbacks this model adds to the trainer's."""
        return []

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None):
        """Clips gradients before each optimizer step, as the trainer's settings say."""
        self.clip_gradients(optimizer, gradient_clip_val, gradient_clip_algorithm)

    def clip_gradients(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None):
        """Clips the gradients of ``optimizer``'s parameters by norm (default) or by value."""
        if not gradient_clip_val:
            return
        parameters = [p for group in optimizer.param_groups for p in group["params"]]
        if gradient_clip_algorithm in (None, "norm"):
            nn.utils.clip_grad_norm_(parameters, gradient_clip_val)
        elif gradient_clip_algorithm == "value":
            nn.utils.clip_grad_value_(parameters, gradient_clip_val)
        else:
            raise ValueError(f"`gradient_clip_algorithm` {gradient_clip_algorithm!r} is invalid. "
                             "Allowed algorithms: ['value', 'norm'].")

    # --- steps of the loop a module may override (Lightning's defaults) ---------------------------------------
    def configure_model(self):
        """Called after ``setup`` in every stage, to build layers lazily."""

    def backward(self, loss, *args, **kwargs):
        """Runs the backward pass of ``loss`` (automatic and manual optimization both come here)."""
        loss.backward(*args, **kwargs)

    def optimizer_step(self, epoch, batch_idx, optimizer, optimizer_closure=None):
        """Steps ``optimizer`` (a LightningOptimizer) with the closure that runs the training step and backward;
        override to act around every step (a learning-rate warm-up, for one)."""
        optimizer.step(closure=optimizer_closure)

    def optimizer_zero_grad(self, epoch, batch_idx, optimizer):
        """Clears ``optimizer``'s gradients before the backward pass of the first batch of each accumulation."""
        optimizer.zero_grad()

    def lr_scheduler_step(self, scheduler, metric):
        """Steps ``scheduler`` (with ``metric`` for ReduceLROnPlateau) when its interval and frequency say."""
        if metric is None:
            scheduler.step()
        else:
            scheduler.step(metric)

    def on_validation_model_zero_grad(self):
        """Called during fit before each validation run: releases the gradients."""
        self.zero_grad()

    def on_before_batch_transfer(self, batch, dataloader_idx):
        """Changes a batch before it moves to the device; returns it."""
        return batch

    def transfer_batch_to_device(self, batch, device, dataloader_idx):
        """Moves the tensors in ``batch`` (nested in lists, tuples and dicts) to ``device``."""
        from .utilities import move_data_to_device
        return move_data_to_device(batch, device)

    def on_after_batch_transfer(self, batch, dataloader_idx):
        """Changes a batch once it is on the device (augmentations there, for one); returns it."""
        return batch

    # --- manual optimization ----------------------------------------------------------------------------------
    def optimizers(self, use_pl_optimizer=True):
        """The optimizer (or list of them) from ``configure_optimizers``."""
        optimizers = self.trainer.optimizers
        if use_pl_optimizer:
            optimizers = [LightningOptimizer(o, self.trainer) for o in optimizers]
        return optimizers[0] if len(optimizers) == 1 else optimizers

    def lr_schedulers(self):
        """The scheduler (or list of them), or None."""
        schedulers = [config.scheduler for config in self.trainer.lr_scheduler_configs]
        if not schedulers:
            return None
        return schedulers[0] if len(schedulers) == 1 else schedulers

    def manual_backward(self, loss, *args, **kwargs):
        """``loss.backward()`` through the trainer's precision (the gradient scaler under 16-bit mixed precision)."""
        self.trainer._run_backward(loss, *args, **kwargs)

    def toggle_optimizer(self, optimizer):
        """Leaves only ``optimizer``'s parameters requiring grad."""
        own = {id(p) for group in getattr(optimizer, "param_groups", []) for p in group["params"]}
        self._toggled = {p: p.requires_grad for p in self.parameters()}
        for parameter in self.parameters():
            parameter.requires_grad_(id(parameter) in own and self._toggled[parameter])

    def untoggle_optimizer(self, optimizer):
        """Restores what ``toggle_optimizer`` changed."""
        for parameter, requires_grad in getattr(self, "_toggled", {}).items():
            parameter.requires_grad_(requires_grad)
        self._toggled = {}

    # --- modes around evaluation (the loops restore the modes they found unless a *_model_train hook is
    # overridden)
    def on_validation_model_eval(self):
        """Called when the validation loop starts: puts the model in eval mode."""
        self.trainer.model.eval()

    def on_validation_model_train(self):
        """Called when the validation loop ends, only where overridden (else the loop restores each module's mode)."""
        self.trainer.model.train()

    def on_test_model_eval(self):
        """Called when the test loop starts: puts the model in eval mode."""
        self.trainer.model.eval()

    def on_test_model_train(self):
        """Called when the test loop ends, only where overridden (else the loop restores each module's mode)."""
        self.trainer.model.train()

    def on_predict_model_eval(self):
        """Called when the predict loop starts: puts the model in eval mode."""
        self.trainer.model.eval()

    # --- freezing and checkpoints -----------------------------------------------------------------------------
    def freeze(self):
        """Stops gradients for every parameter and switches to eval mode."""
        for parameter in self.parameters():
            parameter.requires_grad_(False)
        self.eval()

    def unfreeze(self):
        """Undoes ``freeze``."""
        for parameter in self.parameters():
            parameter.requires_grad_(True)
        self.train()

    @classmethod
    def load_from_checkpoint(cls, checkpoint_path, map_location=None, hparams_file=None, strict=True,
                             weights_only=None, **kwargs):
        """A new module built from the checkpoint's hyperparameters (``kwargs`` override them) with its weights."""
        checkpoint = ember.load(checkpoint_path, map_location=map_location,
                                weights_only=True if weights_only is None else weights_only)
        from .datamodule import _checkpoint_class
        cls, hparams = _checkpoint_class(cls, checkpoint.get(cls.CHECKPOINT_HYPER_PARAMS_KEY, {}))
        signature = inspect.signature(cls.__init__)
        if not any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
            hparams = {k: v for k, v in hparams.items() if k in signature.parameters}
        model = cls(**{**hparams, **kwargs})
        model.on_load_checkpoint(checkpoint)
        model.load_state_dict(checkpoint["state_dict"], strict=strict)
        return model

    def on_save_checkpoint(self, checkpoint):
        """Called with the checkpoint dict before it is written; may add to it."""

    def on_load_checkpoint(self, checkpoint):
        """Called with the checkpoint dict before the weights are restored."""

    def __deepcopy__(self, memo):
        trainer, self._trainer = self._trainer, None
        try:   # the copy leaves the trainer behind
            clone = _plain_deepcopy(self, memo)
        finally:
            self._trainer = trainer
        return clone


def _plain_deepcopy(module, memo):
    cls = type(module)
    clone = cls.__new__(cls)
    memo[id(module)] = clone
    for name, value in module.__dict__.items():
        clone.__dict__[name] = copy.deepcopy(value, memo)
    return clone


_HOOKS = ("on_fit_start", "on_fit_end", "on_train_start", "on_train_end", "on_validation_start",
          "on_validation_end", "on_test_start", "on_test_end", "on_predict_start", "on_predict_end",
          "on_train_epoch_start", "on_train_epoch_end", "on_validation_epoch_start", "on_validation_epoch_end",
          "on_test_epoch_start", "on_test_epoch_end", "on_predict_epoch_start", "on_predict_epoch_end",
          "on_train_batch_start", "on_train_batch_end", "on_validation_batch_start", "on_validation_batch_end",
          "on_test_batch_start", "on_test_batch_end", "on_predict_batch_start", "on_predict_batch_end",
          "on_before_backward", "on_after_backward", "on_before_optimizer_step", "on_before_zero_grad",
          "setup", "teardown", "prepare_data")


def _make_hook(name):
    def hook(self, *args, **kwargs):
        """A Lightning hook; override it to run code at this point of the loop."""
    hook.__name__ = hook.__qualname__ = name
    return hook


for _name in _HOOKS:
    setattr(LightningModule, _name, _make_hook(_name))
