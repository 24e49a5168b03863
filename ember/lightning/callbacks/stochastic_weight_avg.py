"""StochasticWeightAveraging: averages the weights of the last epochs (Izmailov et al., 2018) under an SWALR
schedule, and leaves the average in the module when training ends."""
from copy import deepcopy

import ember
from ember import nn

from ..utilities.exceptions import MisconfigurationException
from ..utilities.rank_zero import rank_zero_info, rank_zero_warn
from .callback import Callback


class StochasticWeightAveraging(Callback):
    """Stochastic Weight Averaging as Lightning runs it: from epoch ``swa_epoch_start`` (an int, 1-based, or a fraction
    of ``max_epochs``) the optimizer's learning rates anneal to ``swa_lrs`` under ``SWALR`` (replacing the module's
    scheduler) and each epoch's start adds the weights to a running average (``avg_fn``, equal weights by default),
    kept on ``device``. At the end the module takes the average; a module with batch norm gets one more epoch, forward
    only, to recompute the norms' statistics for the averaged weights."""

    def __init__(self, swa_lrs, swa_epoch_start=0.8, annealing_epochs=10, annealing_strategy="cos", avg_fn=None,
                 device=ember.device("cpu")):
        message = "swa_epoch_start should be a >0 integer or a float between 0 and 1."
        if isinstance(swa_epoch_start, int) and swa_epoch_start < 1:
            raise MisconfigurationException(message)
        if isinstance(swa_epoch_start, float) and not (0 <= swa_epoch_start <= 1):
            raise MisconfigurationException(message)
        wrong_type = not isinstance(swa_lrs, (float, list))
        wrong_float = isinstance(swa_lrs, float) and swa_lrs <= 0
        wrong_list = isinstance(swa_lrs, list) and not all(lr > 0 and isinstance(lr, float) for lr in swa_lrs)
        if wrong_type or wrong_float or wrong_list:
            raise MisconfigurationException("The `swa_lrs` should a positive float, or a list of positive floats")
        if avg_fn is not None and not callable(avg_fn):
            raise MisconfigurationException("The `avg_fn` should be callable.")
        if device is not None and not isinstance(device, (ember.device, str)):
            raise MisconfigurationException(f"device is expected to be a torch.device or a str. Found {device}")
        self.n_averaged = None
        self._swa_epoch_start = swa_epoch_start
        self._swa_lrs = swa_lrs
        self._annealing_epochs = annealing_epochs
        self._annealing_strategy = annealing_strategy
        self._avg_fn = avg_fn or self.avg_fn
        self._device = device
        self._model_contains_batch_norm = None
        self._average_model = None
        self._initialized = False
        self._swa_scheduler = None
        self._scheduler_state = None
        self._init_n_averaged = 0
        self._latest_update_epoch = -1
        self.momenta = {}
        self._max_epochs = None

    @property
    def swa_start(self):
        """The first averaged epoch (0-based)."""
        return max(self._swa_epoch_start - 1, 0)

    @property
    def swa_end(self):
        """The last averaged epoch (0-based; infinite without ``max_epochs``)."""
        if self._max_epochs == -1:
            return float("inf")
        return self._max_epochs - 1

    @staticmethod
    def pl_module_contains_batch_norm(pl_module):
        """Whether ``pl_module`` holds a batch-norm layer."""
        return any(isinstance(module, nn.modules.batchnorm._BatchNorm) for module in pl_module.modules())

    def setup(self, trainer, pl_module, stage):
        self._average_model = deepcopy(pl_module)

    def on_fit_start(self, trainer, pl_module):
        if len(trainer.optimizers) != 1:
            raise MisconfigurationException("SWA currently works with 1 `optimizer`.")
        if len(trainer.lr_scheduler_configs) > 1:
            raise MisconfigurationException("SWA currently not supported for more than 1 `lr_scheduler`.")
        if isinstance(self._swa_epoch_start, float):
            if trainer.max_epochs == -1:
                raise MisconfigurationException("SWA with `swa_epoch_start` as a float is not supported when "
                                                "`max_epochs=-1`. Please provide `swa_epoch_start` as an integer.")
            self._swa_epoch_start = int(trainer.max_epochs * self._swa_epoch_start)
        self._model_contains_batch_norm = self.pl_module_contains_batch_norm(pl_module)
        self._max_epochs = trainer.max_epochs
        if self._model_contains_batch_norm and trainer.max_epochs != -1:
            trainer.max_epochs += 1   # the epoch that recomputes the batch norms' statistics
        if self._scheduler_state is not None:   # resumed: SWALR replaces the module's scheduler again
            if trainer.lr_scheduler_configs:
                trainer.lr_scheduler_configs.clear()

    def on_train_epoch_start(self, trainer, pl_module):
        from .._optimizers import LRSchedulerConfig
        if not self._initialized and self.swa_start <= trainer.current_epoch <= self.swa_end:
            self._initialized = True
            self._average_model = self._average_model.to(self._device or pl_module.device)
            optimizer = trainer.optimizers[0]
            if isinstance(self._swa_lrs, float):
                self._swa_lrs = [self._swa_lrs] * len(optimizer.param_groups)
            for lr, group in zip(self._swa_lrs, optimizer.param_groups):
                group["initial_lr"] = lr
            self._swa_scheduler = ember.optim.swa_utils.SWALR(
                optimizer, swa_lr=self._swa_lrs, anneal_epochs=self._annealing_epochs,
                anneal_strategy=self._annealing_strategy,
                last_epoch=trainer.max_epochs if self._annealing_strategy == "cos" else -1)
            if self._scheduler_state is not None:
                self._swa_scheduler.load_state_dict(self._scheduler_state)
            elif trainer.current_epoch != self.swa_start:
                rank_zero_warn("SWA is initializing after swa_start without any checkpoint data. "
                               "This may be caused by loading a checkpoint from an older version of PyTorch Lightning.")
            config = LRSchedulerConfig(self._swa_scheduler)
            if trainer.lr_scheduler_configs:
                current = trainer.lr_scheduler_configs[0]
                if current.interval != "epoch" or current.frequency != 1:
                    rank_zero_warn(f"SWA is currently only supported every epoch. Found {current}")
                rank_zero_info(f"Swapping scheduler `{type(current.scheduler).__name__}` for "
                               f"`{type(self._swa_scheduler).__name__}`")
                trainer.lr_scheduler_configs[0] = config
            else:
                trainer.lr_scheduler_configs.append(config)
            if self.n_averaged is None:
                self.n_averaged = ember.tensor(self._init_n_averaged, dtype=ember.long, device=pl_module.device)
        if self.swa_start <= trainer.current_epoch <= self.swa_end and (
                trainer.current_epoch > self._latest_update_epoch):
            self.update_parameters(self._average_model, pl_module, self.n_averaged, self._avg_fn)
            self._latest_update_epoch = trainer.current_epoch
        if self._max_epochs != -1 and trainer.current_epoch == self.swa_end + 1:
            # the extra epoch: the average in the module, fresh batch-norm statistics, forward passes only (all the
            # epoch's batches accumulate into one step)
            self.transfer_weights(self._average_model, pl_module)
            self.reset_batch_norm_and_save_state(pl_module)
            trainer._skip_backward = True
            self._accumulate_grad_batches = trainer.accumulate_grad_batches
            trainer.accumulate_grad_batches = trainer.num_training_batches + 1

    def on_train_epoch_end(self, trainer, *args):
        trainer._skip_backward = False

    def on_train_end(self, trainer, pl_module):
        if self._model_contains_batch_norm and self._max_epochs != -1 and (
                trainer.current_epoch - 1 == self.swa_end + 1):
            trainer.accumulate_grad_batches = self._accumulate_grad_batches
            trainer.max_epochs -= 1
            self.reset_momenta()
        elif trainer.current_epoch - 1 == self.swa_end or self._max_epochs == -1:
            if self._average_model is not None:
                self.transfer_weights(self._average_model, pl_module)

    @staticmethod
    def transfer_weights(src_pl_module, dst_pl_module):
        """Copies ``src_pl_module``'s parameters into ``dst_pl_module``'s."""
        for src, dst in zip(src_pl_module.parameters(), dst_pl_module.parameters()):
            dst.detach().copy_(src.to(dst.device))

    def reset_batch_norm_and_save_state(self, pl_module):
        """Zeroes the batch norms' running statistics and makes them cumulative averages (momentum None), keeping the
        momenta to restore."""
        self.momenta = {}
        for module in pl_module.modules():
            if not isinstance(module, nn.modules.batchnorm._BatchNorm):
                continue
            module.running_mean = ember.zeros_like(module.running_mean, device=pl_module.device,
                                                   dtype=module.running_mean.dtype)
            module.running_var = ember.ones_like(module.running_var, device=pl_module.device,
                                                 dtype=module.running_var.dtype)
            self.momenta[module] = module.momentum
            module.momentum = None
            module.num_batches_tracked *= 0

    def reset_momenta(self):
        """Gives the batch norms their momenta back."""
        for module, momentum in self.momenta.items():
            module.momentum = momentum

    @staticmethod
    def update_parameters(average_model, model, n_averaged, avg_fn):
        """Adds ``model``'s parameters to the running average in ``average_model``; counts it in ``n_averaged``."""
        for p_swa, p_model in zip(average_model.parameters(), model.parameters()):
            device = p_swa.device
            p_swa_ = p_swa.detach()
            p_model_ = p_model.detach().to(device)
            src = p_model_ if n_averaged == 0 else avg_fn(p_swa_, p_model_, n_averaged.to(device))
            p_swa_.copy_(src)
        n_averaged += 1

    @staticmethod
    def avg_fn(averaged_model_parameter, model_parameter, num_averaged):
        """The equal-weight running average."""
        return averaged_model_parameter + (model_parameter - averaged_model_parameter) / (num_averaged + 1)

    def state_dict(self):
        return {"n_averaged": 0 if self.n_averaged is None else self.n_averaged.item(),
                "latest_update_epoch": self._latest_update_epoch,
                "scheduler_state": None if self._swa_scheduler is None else self._swa_scheduler.state_dict(),
                "average_model_state": None if self._average_model is None else self._average_model.state_dict()}

    def load_state_dict(self, state_dict):
        self._init_n_averaged = state_dict["n_averaged"]
        self._latest_update_epoch = state_dict["latest_update_epoch"]
        self._scheduler_state = state_dict["scheduler_state"]
        if self._average_model is not None:
            self._average_model.load_state_dict(state_dict["average_model_state"])
