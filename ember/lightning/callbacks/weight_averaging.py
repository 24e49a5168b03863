"""WeightAveraging and EMAWeightAveraging: keep an average of the module's weights during training (an
``AveragedModel``), validate with it, and leave it in the module when training ends."""
import itertools
from copy import deepcopy

import ember

from ..utilities.rank_zero import rank_zero_info, rank_zero_warn
from .callback import Callback


class WeightAveraging(Callback):
    """Averages the module's weights (and buffers, with ``use_buffers``) in an ``AveragedModel`` (``kwargs`` go to it:
    ``avg_fn``, ``multi_avg_fn``) after each optimizer step and epoch that ``should_update`` accepts (every step by
    default); validation runs with the average, checkpoints hold it as their ``state_dict`` (the module's own weights
    under ``current_model_state``), and training ends with the average in the module."""

    def __init__(self, device=None, use_buffers=True, **kwargs):
        self._device = ember.device(device) if isinstance(device, str) else device
        self._use_buffers = use_buffers
        self._kwargs = kwargs
        self._average_model = None
        self._latest_update_step = 0
        self._latest_update_epoch = -1

    def should_update(self, step_idx=None, epoch_idx=None):
        """Whether to average after optimizer step ``step_idx`` (0-based) or epoch ``epoch_idx``; override to choose
        (the default: after every step)."""
        return step_idx is not None

    def setup(self, trainer, pl_module, stage):
        """Makes the averaged copy of the module when fitting."""
        if stage != "fit":
            return
        from ..module import LightningModule
        from .._loop_parts import _is_overridden
        from ember.optim.swa_utils import AveragedModel
        device = self._device or pl_module.device
        if _is_overridden("configure_model", pl_module, LightningModule):
            rank_zero_warn("You're using the WeightAveraging callback with a model that overrides the configure_model "
                           "callback. WeightAveraging doesn't support sharding model layers, so you may run out of "
                           "memory.")
            pl_module.configure_model()
        self._average_model = AveragedModel(model=pl_module, device=device, use_buffers=self._use_buffers,
                                            **self._kwargs)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        step_idx = trainer.global_step - 1
        if trainer.global_step > self._latest_update_step and self.should_update(step_idx=step_idx):
            self._average_model.update_parameters(pl_module)
            self._latest_update_step = trainer.global_step

    def on_train_epoch_end(self, trainer, pl_module):
        if trainer.current_epoch > self._latest_update_epoch and self.should_update(epoch_idx=trainer.current_epoch):
            self._average_model.update_parameters(pl_module)
            self._latest_update_epoch = trainer.current_epoch

    def on_train_end(self, trainer, pl_module):
        self._copy_average_to_current(pl_module)

    def on_validation_epoch_start(self, trainer, pl_module):
        if self._average_model is not None:
            self._swap_models(pl_module)

    def on_validation_epoch_end(self, trainer, pl_module):
        if self._average_model is not None:
            self._swap_models(pl_module)

    def state_dict(self):
        return {"latest_update_step": self._latest_update_step}

    def load_state_dict(self, state_dict):
        self._latest_update_step = state_dict["latest_update_step"]

    def on_save_checkpoint(self, trainer, pl_module, checkpoint):
        """The checkpoint's ``state_dict`` becomes the average's; the module's own weights go under
        ``current_model_state`` and the averaging counters under ``averaging_state``."""
        if self._average_model is None:
            rank_zero_info("You're using the WeightAveraging callback, but saving a checkpoint outside the 'fit' "
                           "stage. The state of the WeightAveraging callback won't be saved in the checkpoint. If "
                           "training has finished, the average model parameters will be saved to the state_dict in "
                           "the checkpoint.")
            return
        average_state = self._average_model.state_dict()
        checkpoint["current_model_state"] = checkpoint["state_dict"]
        checkpoint["state_dict"] = {name[7:]: value for name, value in average_state.items()
                                    if name.startswith("module.")}
        checkpoint["averaging_state"] = {name: value for name, value in average_state.items()
                                         if not name.startswith("module.")}

    def on_load_checkpoint(self, trainer, pl_module, checkpoint):
        """Restores the average and the module's own weights from a checkpoint this callback wrote (or starts both
        from its ``state_dict``)."""
        if self._average_model is None:
            rank_zero_warn("You're using the WeightAveraging callback, but loading a checkpoint outside the 'fit' "
                           "stage. The WeightAveraging state cannot be restored. If you're using the checkpoint for "
                           "prediction or testing, you can ignore this warning. To disable the warning, remove the "
                           "WeightAveraging callback.")
        elif "current_model_state" in checkpoint and "averaging_state" in checkpoint:
            rank_zero_info("Found current_model_state in the checkpoint. This will be used to initialize the model.")
            average_state = {"module." + name: value for name, value in checkpoint["state_dict"].items()}
            average_state |= checkpoint["averaging_state"]
            self._average_model.load_state_dict(average_state)
            pl_module.load_state_dict(checkpoint["current_model_state"])
        else:
            rank_zero_warn("The checkpoint was not created with WeightAveraging. Both the current and the average "
                           "model will be initialized with state_dict.")
            self._average_model.module.load_state_dict(deepcopy(checkpoint["state_dict"]), strict=False)

    def _pairs(self, pl_module):
        average = self._average_model.module
        return zip(itertools.chain(average.parameters(), average.buffers()),
                   itertools.chain(pl_module.parameters(), pl_module.buffers()))

    def _swap_models(self, pl_module):
        """Exchanges the module's weights and buffers with the average's."""
        for average, current in self._pairs(pl_module):
            kept = average.data.clone()
            average.data.copy_(current.data)
            current.data.copy_(kept)

    def _copy_average_to_current(self, pl_module):
        """Puts the average's weights and buffers into the module."""
        for average, current in self._pairs(pl_module):
            current.data.copy_(average.data)


class EMAWeightAveraging(WeightAveraging):
    """An exponential moving average of the weights (``decay``), updated every ``update_every_n_steps`` optimizer steps
    from step ``update_starting_at_step`` on, and/or at each epoch's end from ``update_starting_at_epoch`` on."""

    def __init__(self, device=None, use_buffers=True, decay=0.999, update_every_n_steps=1,
                 update_starting_at_step=None, update_starting_at_epoch=None, **kwargs):
        from ember.optim.swa_utils import get_ema_avg_fn
        super().__init__(device=device, use_buffers=use_buffers, **kwargs, avg_fn=get_ema_avg_fn(decay=decay))
        self.update_every_n_steps = update_every_n_steps
        self.update_starting_at_step = update_starting_at_step
        self.update_starting_at_epoch = update_starting_at_epoch

    def should_update(self, step_idx=None, epoch_idx=None):
        """Whether this step or epoch is due for an update under the step and epoch settings."""
        if step_idx is not None:
            starts = self.update_starting_at_step is None or step_idx >= self.update_starting_at_step
            due = self.update_every_n_steps > 0 and step_idx % self.update_every_n_steps == 0
            if starts and due:
                return True
        if epoch_idx is not None and self.update_starting_at_epoch is not None:
            return epoch_idx >= self.update_starting_at_epoch
        return False
