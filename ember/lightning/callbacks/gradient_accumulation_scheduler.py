"""GradientAccumulationScheduler: changes how many batches' gradients are accumulated, epoch by epoch."""
from ..utilities.exceptions import MisconfigurationException
from ..utilities.rank_zero import rank_zero_warn
from .callback import Callback


class GradientAccumulationScheduler(Callback):
    """Sets ``trainer.accumulate_grad_batches`` at each epoch's start from ``scheduling`` ({first epoch (0-based):
    factor}); epochs before the first key accumulate 1 batch."""

    def __init__(self, scheduling):
        super().__init__()
        if not scheduling:
            raise TypeError("Empty dict cannot be interpreted correct")
        if any(not isinstance(key, int) or key < 0 for key in scheduling):
            raise MisconfigurationException(
                f"Epoch should be an int greater than or equal to 0. Got {list(scheduling.keys())}.")
        if any(not isinstance(value, int) or value < 1 for value in scheduling.values()):
            raise MisconfigurationException(
                f"Accumulation factor should be an int greater than 0. Got {list(scheduling.values())}.")
        if min(scheduling) != 0:   # the user's dict gains epoch 0, as in Lightning
            scheduling.update({0: 1})
        self.scheduling = scheduling
        self.epochs = sorted(scheduling.keys())

    def going_to_accumulate_grad_batches(self):
        """Whether any epoch accumulates more than one batch."""
        return any(value > 1 for value in self.scheduling.values())

    def get_accumulate_grad_batches(self, epoch):
        """The accumulation factor of ``epoch``."""
        for first in reversed(self.epochs):
            if epoch >= first:
                return self.scheduling[first]
        return 1

    def on_train_start(self, trainer, pl_module):
        """Lightning's checks: automatic optimization, the Trainer's own factor left at 1, a warning where the module
        overrides ``optimizer_step``/``optimizer_zero_grad``."""
        from ..module import LightningModule
        from .._loop_parts import _is_overridden
        if not pl_module.automatic_optimization:
            raise RuntimeError(
                """Automatic gradient accumulation and the `GradientAccumulationScheduler` is not supported for
                manual optimization. Please remove the callback or switch to automatic optimization.""")
        overridden = any(_is_overridden(name, pl_module, LightningModule)
                         for name in ("optimizer_step", "optimizer_zero_grad"))
        if overridden and self.going_to_accumulate_grad_batches():
            rank_zero_warn("When using `Trainer(accumulate_grad_batches != 1)` and overriding"
                           " `LightningModule.optimizer_{step,zero_grad}`, the hooks will not be called on every batch"
                           " (rather, they are called on every optimization step).")
        if trainer.accumulate_grad_batches != 1:
            raise ValueError("You have set `accumulate_grad_batches` and are using the `GradientAccumulationScheduler`"
                             " callback. Either remove `accumulate_grad_batches` from the Trainer or remove the "
                             "callback.")

    def on_train_epoch_start(self, trainer, *args):
        trainer.accumulate_grad_batches = self.get_accumulate_grad_batches(trainer.current_epoch)
