"""Callback: code the Trainer calls at each point of its loops (``on_train_epoch_end(trainer, pl_module)``, ...)."""


class Callback:
    """Base of callbacks: every hook does nothing until overridden; ``state_dict`` goes into checkpoints."""

    _monitors = False   # checkpointing and early stopping run after the others at the same hook

    @property
    def state_key(self):
        """The key of this callback's state in a checkpoint's ``"callbacks"`` dict."""
        return type(self).__qualname__

    def _generate_state_key(self, **kwargs):
        return f"{type(self).__qualname__}{kwargs!r}"

    def state_dict(self):
        """State to save in checkpoints."""
        return {}

    def load_state_dict(self, state_dict):
        """Restores what ``state_dict`` returned."""

    def setup(self, trainer, pl_module, stage):
        """Called when fit, validate, test or predict begins."""

    def teardown(self, trainer, pl_module, stage):
        """Called when fit, validate, test or predict ends."""

    def on_save_checkpoint(self, trainer, pl_module, checkpoint):
        """Called with the checkpoint dict before it is written."""

    def on_load_checkpoint(self, trainer, pl_module, checkpoint):
        """Called with the checkpoint dict when the trainer resumes from it."""


def _make_hook(name):
    def hook(self, trainer, pl_module, *args):
        """A Lightning hook; override it to run code at this point of the loop."""
    hook.__name__ = hook.__qualname__ = name
    return hook


for _name in ("on_fit_start", "on_fit_end", "on_sanity_check_start", "on_sanity_check_end", "on_train_start",
              "on_train_end", "on_train_epoch_start", "on_train_epoch_end", "on_train_batch_start",
              "on_train_batch_end", "on_validation_start", "on_validation_end", "on_validation_epoch_start",
              "on_validation_epoch_end", "on_validation_batch_start", "on_validation_batch_end", "on_test_start",
              "on_test_end", "on_test_epoch_start", "on_test_epoch_end", "on_test_batch_start", "on_test_batch_end",
              "on_predict_start", "on_predict_end", "on_predict_epoch_start", "on_predict_epoch_end",
              "on_predict_batch_start", "on_predict_batch_end", "on_before_backward", "on_after_backward",
              "on_before_optimizer_step", "on_before_zero_grad", "on_exception"):
    setattr(Callback, _name, _make_hook(_name))
