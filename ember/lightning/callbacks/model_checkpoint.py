"""ModelCheckpoint: saves checkpoints during fit — the last one, or the top-k by a monitored metric — with
Lightning 2.x's file names (``epoch=3-val_loss=0.12.ckpt``), bookkeeping and state."""
import math
import os
import re

import ember

from ..trainer.states import TrainerFn
from ..utilities.rank_zero import rank_zero_info, rank_zero_warn
from .checkpoint import Checkpoint


class ModelCheckpoint(Checkpoint):
    """Saves the model (and the training state) after epochs or steps, keeping the ``save_top_k`` best."""

    _monitors = True
    CHECKPOINT_JOIN_CHAR = "-"
    CHECKPOINT_EQUALS_CHAR = "="
    CHECKPOINT_NAME_LAST = "last"
    FILE_EXTENSION = ".ckpt"
    STARTING_VERSION = 1

    def __init__(self, dirpath=None, filename=None, monitor=None, verbose=False, save_last=None, save_top_k=1,
                 save_weights_only=False, mode="min", auto_insert_metric_name=True, every_n_train_steps=None,
                 train_time_interval=None, every_n_epochs=None, save_on_train_epoch_end=None,
                 enable_version_counter=True):
        if mode not in ("min", "max"):
            raise ValueError(f"`mode` can be 'min' or 'max' but got {mode}")
        if save_top_k < -1:
            raise ValueError(f"Invalid value for save_top_k={save_top_k}. Must be >= -1")
        if monitor is None and save_top_k not in (-1, 0, 1):
            raise ValueError(f"ModelCheckpoint(save_top_k={save_top_k}, monitor=None) is not a valid configuration. "
                             "No quantity for top_k to track.")
        self.dirpath = os.path.realpath(os.path.expanduser(os.fspath(dirpath))) if dirpath else None
        self.filename, self.monitor, self.verbose, self.save_last = filename, monitor, verbose, save_last
        self.save_top_k, self.save_weights_only, self.mode = save_top_k, save_weights_only, mode
        self.auto_insert_metric_name, self.enable_version_counter = auto_insert_metric_name, enable_version_counter
        self._every_n_train_steps = every_n_train_steps or 0
        self._every_n_epochs = every_n_epochs if every_n_epochs is not None else (
            0 if every_n_train_steps else 1)
        self._save_on_train_epoch_end = save_on_train_epoch_end
        self.best_k_models = {}
        self.kth_best_model_path = ""
        self.best_model_score = None
        self.best_model_path = ""
        self.last_model_path = ""
        self.current_score = None
        self.kth_value = ember.tensor(math.inf if mode == "min" else -math.inf)
        self._last_global_step_saved = 0

    @property
    def state_key(self):
        return self._generate_state_key(monitor=self.monitor, mode=self.mode,
                                        every_n_train_steps=self._every_n_train_steps,
                                        every_n_epochs=self._every_n_epochs, train_time_interval=None)

    # --- where and when -------------------------------------------------------------------------------------
    def setup(self, trainer, pl_module, stage):
        if self.dirpath is None:
            self.dirpath = trainer.strategy.broadcast(self._resolve_ckpt_dir(trainer))   # rank 0's logger version
        if trainer.is_global_zero and stage == "fit" and self.save_top_k != 0 and os.path.isdir(self.dirpath) \
                and os.listdir(self.dirpath):
            rank_zero_warn(f"Checkpoint directory {self.dirpath} exists and is not empty.")

    def _resolve_ckpt_dir(self, trainer):
        """The folder checkpoints go to: ``dirpath``, else the first logger's version folder's ``checkpoints``."""
        if self.dirpath is not None:
            return self.dirpath
        if trainer.loggers:
            logger = trainer.loggers[0]
            version = logger.version if isinstance(logger.version, str) else f"version_{logger.version}"
            return os.path.join(logger.save_dir or trainer.default_root_dir, str(logger.name), version,
                                "checkpoints")
        return os.path.join(trainer.default_root_dir, "checkpoints")

    def _find_last_checkpoints(self, trainer):
        """The ``last*.ckpt`` files in the checkpoint folder (what ``ckpt_path="last"`` chooses from)."""
        folder = self._resolve_ckpt_dir(trainer)
        pattern = rf"^{self.CHECKPOINT_NAME_LAST}(-(\d+))?"
        if not os.path.isdir(folder):
            return set()
        return {os.path.normpath(os.path.join(folder, name)) for name in os.listdir(folder)
                if os.path.splitext(name)[1] == self.FILE_EXTENSION
                and re.match(pattern, os.path.splitext(name)[0])}

    def _should_save_on_train_epoch_end(self, trainer):
        if self._save_on_train_epoch_end is not None:
            return self._save_on_train_epoch_end
        if trainer.check_val_every_n_epoch != 1:
            return False
        if sum(trainer.num_val_batches) == 0:
            return True
        return trainer.val_check_interval == 1.0

    def _skip(self, trainer):
        return (bool(trainer.fast_dev_run) or trainer.state.fn != TrainerFn.FITTING or trainer.sanity_checking
                or self._last_global_step_saved == trainer.global_step)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if self._skip(trainer) or not self._every_n_train_steps:
            return
        if trainer.global_step % self._every_n_train_steps == 0:
            self._save(trainer)

    def on_train_epoch_end(self, trainer, pl_module):
        if not self._skip(trainer) and self._should_save_on_train_epoch_end(trainer):
            if self._every_n_epochs >= 1 and (trainer.current_epoch + 1) % self._every_n_epochs == 0:
                self._save(trainer)
            self._save_last(trainer, self._candidates(trainer))

    def on_validation_end(self, trainer, pl_module):
        if not self._skip(trainer) and not self._should_save_on_train_epoch_end(trainer):
            if self._every_n_epochs >= 1 and (trainer.current_epoch + 1) % self._every_n_epochs == 0:
                self._save(trainer)
            self._save_last(trainer, self._candidates(trainer))

    def _candidates(self, trainer):
        candidates = dict(trainer.callback_metrics)
        candidates["epoch"] = ember.tensor(trainer.current_epoch)
        candidates["step"] = ember.tensor(trainer.global_step)
        return candidates

    def _save(self, trainer):
        candidates = self._candidates(trainer)
        if self.save_top_k == 0:
            return
        if self.monitor is None:
            filepath = self._interpolated_path(candidates, trainer)
            previous, self.best_model_path = self.best_model_path, filepath
            self._write(trainer, filepath)
            if self.save_top_k == 1 and previous:
                self._remove(trainer, previous, filepath)
            return
        if self.monitor not in candidates:
            raise RuntimeError(f"`ModelCheckpoint(monitor={self.monitor!r})` could not find the monitored key in the "
                               f"returned metrics: {list(candidates)}. HINT: Did you call `log({self.monitor!r}, "
                               "value)` in the `LightningModule`?")
        current = candidates[self.monitor].detach().reshape(())
        if self.check_monitor_top_k(current):
            self._update_best_and_save(current, trainer, candidates)
        elif self.verbose:
            rank_zero_info(f"Epoch {trainer.current_epoch:d}, global step {trainer.global_step:d}: {self.monitor!r} "
                           f"was not in top {self.save_top_k}")

    def check_monitor_top_k(self, current):
        """Whether ``current`` belongs among the best ``save_top_k`` scores so far."""
        if self.save_top_k == -1 or len(self.best_k_models) < self.save_top_k:
            return True
        kth = float(self.best_k_models[self.kth_best_model_path])
        return float(current) < kth if self.mode == "min" else float(current) > kth

    def _update_best_and_save(self, current, trainer, candidates):
        k = len(self.best_k_models) + 1 if self.save_top_k == -1 else self.save_top_k
        removed = None
        if len(self.best_k_models) == k and k > 0:
            removed = self.kth_best_model_path
            self.best_k_models.pop(removed)
        if math.isnan(float(current)):
            current = ember.tensor(math.inf if self.mode == "min" else -math.inf)
        filepath = self._interpolated_path(candidates, trainer, removed)
        self.current_score = current
        self.best_k_models[filepath] = current
        score = lambda path: float(self.best_k_models[path])  # noqa: E731
        if len(self.best_k_models) == k:
            self.kth_best_model_path = (max if self.mode == "min" else min)(self.best_k_models, key=score)
            self.kth_value = self.best_k_models[self.kth_best_model_path]
        self.best_model_path = (min if self.mode == "min" else max)(self.best_k_models, key=score)
        self.best_model_score = self.best_k_models[self.best_model_path]
        if self.verbose:
            rank_zero_info(f"Epoch {trainer.current_epoch:d}, global step {trainer.global_step:d}: {self.monitor!r} "
                           f"reached {float(current):0.5f} (best {float(self.best_model_score):0.5f}), saving model to "
                           f"{filepath!r} as top {k}")
        self._write(trainer, filepath)
        if removed:
            self._remove(trainer, removed, filepath)

    def _save_last(self, trainer, candidates):
        if not self.save_last:
            return
        filepath = self.format_checkpoint_name(candidates, self.CHECKPOINT_NAME_LAST)
        previous, self.last_model_path = self.last_model_path, filepath
        if self.save_last == "link" and self.best_model_path and os.path.exists(self.best_model_path):
            if os.path.lexists(filepath):
                os.remove(filepath)
            os.symlink(os.path.relpath(self.best_model_path, os.path.dirname(filepath)), filepath)
        else:
            self._write(trainer, filepath)
        if previous:
            self._remove(trainer, previous, filepath)

    # --- names and files ------------------------------------------------------------------------------------
    @classmethod
    def _format_checkpoint_name(cls, filename, metrics, prefix="", auto_insert_metric_name=True):
        if not filename:
            filename = "{epoch}" + cls.CHECKPOINT_JOIN_CHAR + "{step}"
        groups = sorted(re.findall(r"(\{.*?)[:\}]", filename), key=len, reverse=True)
        metrics = dict(metrics)
        for group in groups:
            name = group[1:]
            if auto_insert_metric_name:
                filename = filename.replace(group, name + cls.CHECKPOINT_EQUALS_CHAR + "{" + name)
            filename = filename.replace("{" + name, "{" + name.replace("/", "_")) if "/" in name else filename
            if name not in metrics:
                metrics[name] = ember.tensor(0)
        values = {name.replace("/", "_"): value for name, value in metrics.items()}
        filename = filename.format(**values)
        return cls.CHECKPOINT_JOIN_CHAR.join([prefix, filename]) if prefix else filename

    def format_checkpoint_name(self, metrics, filename=None, ver=None, prefix=""):
        """The checkpoint path for these metric values (``filename`` defaults to the callback's template)."""
        name = self._format_checkpoint_name(filename or self.filename, metrics, prefix, self.auto_insert_metric_name)
        if ver is not None:
            name = self.CHECKPOINT_JOIN_CHAR.join((name, f"v{ver}"))
        return os.path.join(self.dirpath, name + self.FILE_EXTENSION) if self.dirpath else name + self.FILE_EXTENSION

    def _interpolated_path(self, candidates, trainer, removed=None):
        filepath = self.format_checkpoint_name(candidates)
        if self.enable_version_counter:
            version = self.STARTING_VERSION
            while os.path.exists(filepath) and filepath != removed and filepath not in self.best_k_models:
                filepath = self.format_checkpoint_name(candidates, ver=version)
                version += 1
        return filepath

    def _write(self, trainer, filepath):
        os.makedirs(os.path.dirname(filepath) or ".", exist_ok=True)
        trainer.save_checkpoint(filepath, self.save_weights_only)
        self._last_global_step_saved = trainer.global_step

    def _remove(self, trainer, previous, current):
        """Removes the ``previous`` checkpoint that ``current`` replaces, unless (as in Lightning) it is ``current``
        itself, the one the trainer resumed from, or a file outside ``dirpath``."""
        if previous == current:
            return
        previous = os.path.abspath(previous)
        if trainer.ckpt_path is not None and previous == os.path.abspath(trainer.ckpt_path):
            return
        if os.path.commonpath([previous, os.path.abspath(self.dirpath)]) == os.path.abspath(self.dirpath):
            trainer.strategy.remove_checkpoint(previous)

    # --- state ----------------------------------------------------------------------------------------------
    def state_dict(self):
        return {"monitor": self.monitor, "best_model_score": self.best_model_score,
                "best_model_path": self.best_model_path, "current_score": self.current_score,
                "dirpath": self.dirpath, "best_k_models": self.best_k_models,
                "kth_best_model_path": self.kth_best_model_path, "kth_value": self.kth_value,
                "last_model_path": self.last_model_path}

    def load_state_dict(self, state_dict):
        if state_dict.get("dirpath") == self.dirpath:
            self.best_model_score = state_dict["best_model_score"]
            self.best_model_path = state_dict["best_model_path"]
            self.best_k_models = dict(state_dict.get("best_k_models", {}))
            self.kth_best_model_path = state_dict.get("kth_best_model_path", "")
            self.kth_value = state_dict.get("kth_value", self.kth_value)
            self.last_model_path = state_dict.get("last_model_path", "")
            self.current_score = state_dict.get("current_score")
