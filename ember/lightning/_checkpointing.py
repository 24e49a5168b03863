"""The Trainer's checkpoints: Lightning's checkpoint dict (weights, loop progress, optimizers, schedulers, precision
state, callbacks' and the datamodule's state, hyperparameters), writing it, and restoring a run from one."""
import math
import os
import warnings

import ember

from .callbacks import ModelCheckpoint
from .utilities.rank_zero import rank_zero_info, rank_zero_warn
from .utilities.warnings import PossibleUserWarning


class _Checkpointing:
    """The Trainer's methods that save and restore checkpoints (``Trainer`` inherits them)."""

    def save_checkpoint(self, filepath, weights_only=False):
        """Writes a Lightning checkpoint (atomically, through ``ember.save``; rank 0 writes, every rank waits)."""
        with self.profiler.profile("save_checkpoint"):
            self.strategy.save_checkpoint(self._checkpoint(weights_only), filepath)
        self.strategy.barrier("Trainer.save_checkpoint")

    def _checkpoint(self, weights_only=False):
        model = self.lightning_module
        checkpoint = {"epoch": self.current_epoch, "global_step": self.global_step,
                      "pytorch-lightning_version": "2.6.0", "state_dict": model.state_dict(),
                      "loops": {"fit_loop": self._loop_state(),
                                **{name: {"state_dict": {}, "batch_progress": {
                                    "total": dict.fromkeys(("ready", "completed", "started", "processed"), 0),
                                    "current": dict.fromkeys(("ready", "completed", "started", "processed"), 0),
                                    **({"is_last_batch": False} if name != "predict_loop" else {})}}
                                   for name in ("validate_loop", "test_loop", "predict_loop")}}}
        if not weights_only:
            checkpoint["callbacks"] = {c.state_key: c.state_dict() for c in self.callbacks if c.state_dict()}
            checkpoint["optimizer_states"] = [o.state_dict() for o in self.optimizers]
            checkpoint["lr_schedulers"] = [c.scheduler.state_dict() for c in self.lr_scheduler_configs]
            if self._scaler is not None:
                checkpoint["MixedPrecision"] = self._scaler.state_dict()
            for callback in self.callbacks:
                self._call_callback(callback, "on_save_checkpoint", checkpoint)
        if self.datamodule is not None and not weights_only:
            state = self._call_datamodule("state_dict")
            if state:
                checkpoint[type(self.datamodule).__qualname__] = state
        for owner in (model, self.datamodule):
            if owner is not None and owner.hparams:
                if getattr(owner, "_hparams_name", None):
                    checkpoint[owner.CHECKPOINT_HYPER_PARAMS_NAME] = owner._hparams_name
                checkpoint[owner.CHECKPOINT_HYPER_PARAMS_KEY] = dict(owner.hparams)
        self._call_module("on_save_checkpoint", checkpoint)
        return checkpoint

    def _loop_state(self):
        """The fit loop's progress in Lightning's checkpoint layout (its keys, in its order): the batch counters tell a
        restore whether the checkpoint was taken inside ``on_train_batch_end`` (completed = processed - 1), mid-epoch
        or at its end; ``current`` counts this epoch, ``total`` the whole fit."""
        def progress(total, current, started=True, processed=True):
            def one(n, done):
                out = {"ready": n, "completed": done}
                if started:
                    out["started"] = n
                if processed:
                    out["processed"] = n
                return out
            return {"total": one(*total), "current": one(*current)}

        processed = self._batches_completed + self._in_batch_end
        before, epoch, stage = self.current_epoch * self.num_training_batches, self.current_epoch, self._epoch_stage
        batches = progress((processed + before, self._batches_completed + before), (processed, self._batches_completed))
        epochs = {"ready": epoch + (stage > 0), "completed": epoch, "started": epoch + (stage > 0),
                  "processed": epoch + (stage == 2)}
        step, epoch_steps = self.global_step, self.global_step - self._epoch_start_step
        automatic = self.lightning_module is None or self.lightning_module.automatic_optimization
        auto_steps = (step, step, epoch_steps, epoch_steps) if automatic else (0, 0, 0, 0)
        manual_steps = (0, 0, 0, 0) if automatic else (step,) * 4   # Lightning does not reset it each epoch
        schedulers = self._scheduler_steps, self._scheduler_steps - self._epoch_start_scheduler_steps
        val = self._val_batches_run
        return {"state_dict": {},
                "epoch_loop.state_dict": {"_batches_that_stepped": self._batches_that_stepped - self._step_pending},
                "epoch_loop.batch_progress": {**batches, "is_last_batch": processed >= self.num_training_batches},
                "epoch_loop.scheduler_progress": progress(schedulers[:1] * 2, schedulers[1:] * 2, False, False),
                "epoch_loop.automatic_optimization.state_dict": {},
                "epoch_loop.automatic_optimization.optim_progress": {"optimizer": {
                    "step": progress(auto_steps[:2], auto_steps[2:], False, False),
                    "zero_grad": progress(auto_steps[:2], auto_steps[2:], True, False)}},
                "epoch_loop.manual_optimization.state_dict": {},
                "epoch_loop.manual_optimization.optim_step_progress": progress(manual_steps[:2], manual_steps[2:],
                                                                               False, False),
                "epoch_loop.val_loop.state_dict": {},
                "epoch_loop.val_loop.batch_progress": {**progress((val, val), (val, val)),
                                                       "is_last_batch": bool(val) and val >= sum(self.num_val_batches)},
                "epoch_progress": {"total": dict(epochs), "current": epochs}}

    @property
    def ckpt_path(self):
        """The checkpoint the last fit, validate, test or predict loaded (None if none), or the one set here, which
        the next ones load until it is set to None or another is passed to them."""
        return getattr(self, "_ckpt_path", None)

    @ckpt_path.setter
    def ckpt_path(self, ckpt_path):
        self._ckpt_path, self._ckpt_path_set = ckpt_path, bool(ckpt_path)

    def _select_ckpt_path(self, fn, ckpt_path, model_provided):
        """The checkpoint ``fn`` loads: the one set as ``trainer.ckpt_path`` unless another is passed (which then
        replaces it, with Lightning's warning), else as ``_parse_ckpt_path`` chooses."""
        if getattr(self, "_ckpt_path_set", False):
            if not ckpt_path:
                return self._ckpt_path
            rank_zero_warn(f"`trainer.ckpt_path = {self._ckpt_path!r}` was called but then you passed "
                           f"`trainer.fit(ckpt_path={ckpt_path!r})`. The latter will be loaded.")
            self._ckpt_path, self._ckpt_path_set = None, False
        return self._parse_ckpt_path(fn, ckpt_path, model_provided)

    def _parse_ckpt_path(self, fn, ckpt_path, model_provided):
        """The checkpoint file ``fn`` loads, as Lightning chooses it: none for a model passed in without
        ``ckpt_path``; the best checkpoint (with a warning) for the model of a previous fit; "best" and "last"
        resolved through the ModelCheckpoint callbacks ("last": the newest ``last*.ckpt`` in their folders, or none
        with a warning)."""
        if model_provided and ckpt_path is None:
            return None
        if self.lightning_module is not None and ckpt_path is None:
            ckpt_path = "best"
            rank_zero_warn(f"`.{fn}(ckpt_path=None)` was called without a model. The best model of the previous "
                           f"`fit` call will be used. You can pass `.{fn}(ckpt_path='best')` to use the best model or "
                           f"`.{fn}(ckpt_path='last')` to use the last model. If you pass a value, this warning will "
                           "be silenced.")
        if ckpt_path == "best":
            if len(self.checkpoint_callbacks) > 1:
                rank_zero_warn(f'`.{fn}(ckpt_path="best")` is called with Trainer configured with multiple '
                               "`ModelCheckpoint` callbacks. It will use the best checkpoint path from first "
                               "checkpoint callback.")
            callback = self.checkpoint_callback
            if callback is None:
                raise ValueError(f'`.{fn}(ckpt_path="best")` is set but `ModelCheckpoint` is not configured.')
            if hasattr(callback, "best_model_path") and not callback.best_model_path:
                if self.fast_dev_run:
                    raise ValueError(f'You cannot execute `.{fn}(ckpt_path="best")` with `fast_dev_run=True`. Please '
                                     f"pass an exact checkpoint path to `.{fn}(ckpt_path=...)`")
                raise ValueError(f'`.{fn}(ckpt_path="best")` is set but `ModelCheckpoint` is not configured to save '
                                 "the best model.")
            return getattr(callback, "best_model_path", None)
        if ckpt_path == "last":   # the OnExceptionCheckpoint files and ModelCheckpoint's last*.ckpt
            from .callbacks import OnExceptionCheckpoint
            candidates = {getattr(c, "ckpt_path", None) for c in self.callbacks if isinstance(c, OnExceptionCheckpoint)}
            for callback in self.checkpoint_callbacks:
                if isinstance(callback, ModelCheckpoint):
                    candidates |= callback._find_last_checkpoints(self)
            candidates = {path: os.path.getmtime(path) for path in candidates if path and os.path.exists(path)}
            if not candidates:
                rank_zero_warn(f'.{fn}(ckpt_path="last") is set, but there is no last checkpoint available. No '
                               "checkpoint will be loaded. HINT: Set `ModelCheckpoint(..., save_last=True)`.")
                return None
            return max(candidates, key=candidates.get)
        return ckpt_path

    def _load_checkpoint(self, ckpt_path):
        rank_zero_info(f"Restoring states from the checkpoint path at {ckpt_path}")
        if not os.path.exists(ckpt_path):
            raise FileNotFoundError(f"Checkpoint file not found: {ckpt_path}")
        weights_only = getattr(self, "_weights_only", None)   # fit/validate/test/predict's, None: False
        if self.strategy.checkpoint_io is not None:   # a plugin gets Lightning's argument as given
            return self.strategy.load_checkpoint(ckpt_path, weights_only)
        return ember.load(ckpt_path, weights_only=False if weights_only is None else weights_only)

    def _restore(self, checkpoint, ckpt_path):
        """Restores epoch and step, optimizers, schedulers and the loops' position from a checkpoint whose weights and
        callbacks are back already, so training carries on as if it had not stopped."""
        self._restore_training_state(checkpoint)
        rank_zero_info(f"Restored all states from the checkpoint at {ckpt_path}")
        self.current_epoch = checkpoint["epoch"] + 1
        self.global_step = checkpoint["global_step"]
        self._batches_that_stepped = checkpoint["global_step"] * self.accumulate_grad_batches
        loop = checkpoint.get("loops", {}).get("fit_loop", {})
        # Lightning's fit loop is restarting (no sanity check) when the saved epoch had not finished or training is
        # counted in steps
        epoch = loop.get("epoch_progress", {}).get("current", {})
        self._restarting = self.max_steps != -1 or any(
            epoch.get(key, 0) != epoch.get("processed", 0) for key in ("ready", "started"))
        progress = loop.get("epoch_loop.batch_progress", {}).get("current", {})
        if "processed" not in progress:
            return   # no batch counters (a checkpoint from an older writer): taken at an epoch's end
        done, processed = progress["completed"], progress["processed"]
        in_batch_end = processed == done + 1
        start = done + in_batch_end
        if start >= self.num_training_batches and not in_batch_end:
            return   # the epoch had ended: the next one
        # mid-epoch, as Lightning restores it: the same epoch from the next batch index (none left when saved in the
        # last batch's on_train_batch_end: only the epoch's end runs), the stepped-batch count Lightning's way
        self.current_epoch = checkpoint["epoch"]
        self._resume_batch = start
        stepped = start % self.accumulate_grad_batches == 0 or start == self.num_training_batches
        self._batches_that_stepped = loop["epoch_loop.state_dict"]["_batches_that_stepped"] + (
            in_batch_end and stepped)
        if self.global_step % math.ceil(self.num_training_batches / self.accumulate_grad_batches):
            warnings.warn("You're resuming from a checkpoint that ended before the epoch ended and your dataloader "
                          "is not resumable. This can cause unreliable results if further training is done. Consider "
                          "using an end-of-epoch checkpoint or make your dataloader resumable by implementing the "
                          "`state_dict` / `load_state_dict` interface.", PossibleUserWarning)

    def _restore_state(self, checkpoint):
        """Loads weights, optimizers, schedulers, the grad scaler and callbacks' state from ``checkpoint``."""
        self._restore_modules_and_callbacks(checkpoint)
        self._restore_training_state(checkpoint)

    def _restore_modules_and_callbacks(self, checkpoint):
        """Loads the weights (after the module's ``on_load_checkpoint``) and the callbacks' state."""
        model = self.lightning_module
        self._call_module("on_load_checkpoint", checkpoint)
        model.load_state_dict(checkpoint["state_dict"])
        if self.datamodule is not None and type(self.datamodule).__qualname__ in checkpoint:
            self.datamodule.load_state_dict(checkpoint[type(self.datamodule).__qualname__])
        states = checkpoint.get("callbacks")
        if states is None:
            return
        missing = states.keys() - {callback.state_key for callback in self.callbacks}
        if missing:
            rank_zero_warn("Be aware that when using `ckpt_path`, callbacks used to create the checkpoint need to be "
                           "provided during `Trainer` instantiation. Please add the following callbacks: "
                           f"{list(missing)}.")
        for callback in self.callbacks:   # every on_load_checkpoint, then every load_state_dict, as Lightning
            self._call_callback(callback, "on_load_checkpoint", checkpoint)
        for callback in self.callbacks:
            if callback.state_key in states:
                callback.load_state_dict(states[callback.state_key])

    def _restore_training_state(self, checkpoint):
        """Loads the optimizers', schedulers' and grad scaler's state."""
        if "optimizer_states" not in checkpoint:
            raise KeyError("Trying to restore optimizer state but checkpoint contains only the model. This is "
                           "probably due to `ModelCheckpoint.save_weights_only` being set to `True`.")
        for optimizer, state in zip(self.optimizers, checkpoint["optimizer_states"]):
            optimizer.load_state_dict(state)
        for config, state in zip(self.lr_scheduler_configs, checkpoint.get("lr_schedulers", [])):
            config.scheduler.load_state_dict(state)
        if self._scaler is not None and "MixedPrecision" in checkpoint:
            self._scaler.load_state_dict(checkpoint["MixedPrecision"])
