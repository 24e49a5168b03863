"""The Trainer's read-only properties (ranks, loggers, callbacks, batch counts), a mixin the Trainer inherits."""
import math

import ember

from .callbacks import Checkpoint, ProgressBar


class _TrainerProperties:
    """What users read off a Trainer: its ranks and devices through the strategy, its first logger and callbacks of
    each kind, and what fit will run."""

    @staticmethod
    def _check_accelerator(accelerator):
        if accelerator in ("gpu", "cuda") and not ember.cuda.is_available():
            raise ValueError(f"`Trainer(accelerator={accelerator!r})` was requested, but no CUDA GPU is available "
                             "to ember")
        if accelerator not in ("auto", "cpu", "gpu", "cuda"):
            raise ValueError(f"You passed `Trainer(accelerator={accelerator!r})`; ember supports 'cpu', 'gpu', "
                             "'cuda' and 'auto'")

    @property
    def is_global_zero(self):
        """Whether this process is rank 0 (the one that writes logs and checkpoints)."""
        return self.strategy.is_global_zero

    @property
    def world_size(self):
        """How many processes train together."""
        return self.strategy.world_size

    @property
    def global_rank(self):
        """This process's rank among all."""
        return self.strategy.global_rank

    @property
    def local_rank(self):
        """This process's rank on its machine."""
        return self.strategy.local_rank

    @property
    def node_rank(self):
        """This machine's index."""
        return self.strategy.node_rank

    @property
    def num_devices(self):
        """Processes per machine."""
        return getattr(self.strategy, "num_processes", 1)

    @property
    def distributed_sampler_kwargs(self):
        """``num_replicas`` and ``rank`` of the DistributedSampler put into dataloaders (None in one process)."""
        return self.strategy.distributed_sampler_kwargs

    @property
    def logger(self):
        """The first logger, or None."""
        return self.loggers[0] if self.loggers else None

    @property
    def log_dir(self):
        """Where the first logger writes (default_root_dir without a logger)."""
        return self.logger.log_dir if self.logger is not None else self.default_root_dir

    @property
    def checkpoint_callback(self):
        """The first checkpointing callback (a ``Checkpoint``, such as ModelCheckpoint), or None."""
        return next((c for c in self.callbacks if isinstance(c, Checkpoint)), None)

    @property
    def checkpoint_callbacks(self):
        """Every checkpointing callback (``Checkpoint`` instances)."""
        return [c for c in self.callbacks if isinstance(c, Checkpoint)]

    @property
    def early_stopping_callback(self):
        """The first EarlyStopping callback, or None."""
        from .callbacks import EarlyStopping
        return next((c for c in self.callbacks if isinstance(c, EarlyStopping)), None)

    @property
    def progress_bar_callback(self):
        """The progress bar callback, or None."""
        return next((c for c in self.callbacks if isinstance(c, ProgressBar)), None)

    @property
    def enable_validation(self):
        """Whether fit validates: the module has a ``validation_step``, there is validation data and
        ``limit_val_batches`` is not 0."""
        return (getattr(self, "_has_val_loader", False) and getattr(self, "_has_val_step", False)
                and self.limit_val_batches > 0)

    @property
    def num_sanity_val_batches(self):
        """How many batches of each validation dataloader the sanity check runs."""
        return [min(self.num_sanity_val_steps, batches) for batches in self.num_val_batches]

    @property
    def model(self):
        """The LightningModule being run."""
        return self.lightning_module

    @property
    def estimated_stepping_batches(self):
        """How many optimizer steps fit will take (for schedulers such as OneCycleLR)."""
        per_epoch = math.ceil(self.num_training_batches / self.accumulate_grad_batches)
        total = per_epoch * max(self.max_epochs, 1) if self.max_epochs != -1 else float("inf")
        return min(total, self.max_steps) if self.max_steps != -1 else total
