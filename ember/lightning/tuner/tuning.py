"""Tuner: runs a finder callback through ``trainer.fit``, which ends once the finder is done (Lightning's Tuner)."""
from ..callbacks.finders import BatchSizeFinder, LearningRateFinder


class Tuner:
    """Finds a learning rate (``lr_find``) or the largest batch size that fits (``scale_batch_size``) for a model
    with a Trainer; the model's weights and the trainer's state are restored afterwards."""

    def __init__(self, trainer):
        self._trainer = trainer

    def lr_find(self, model, train_dataloaders=None, val_dataloaders=None, dataloaders=None, datamodule=None,
                method="fit", min_lr=1e-8, max_lr=1, num_training=100, mode="exponential", early_stop_threshold=4.0,
                update_attr=True, attr_name=""):
        """The learning-rate range test; returns the finder (``results``, ``suggestion()``, ``plot()``)."""
        if method != "fit":
            raise ValueError("method='fit' is the only valid configuration to run lr finder.")
        _check(train_dataloaders, val_dataloaders, dataloaders, method)
        if any(isinstance(c, LearningRateFinder) for c in self._trainer.callbacks):
            raise ValueError("Trainer is already configured with a `LearningRateFinder` callback.Please remove it if "
                             "you want to use the Tuner.")
        finder = LearningRateFinder(min_lr=min_lr, max_lr=max_lr, num_training_steps=num_training, mode=mode,
                                    early_stop_threshold=early_stop_threshold, update_attr=update_attr,
                                    attr_name=attr_name)
        return self._run(finder, model, train_dataloaders, val_dataloaders, datamodule).optimal_lr

    def scale_batch_size(self, model, train_dataloaders=None, val_dataloaders=None, dataloaders=None,
                         datamodule=None, method="fit", mode="power", steps_per_trial=3, init_val=2, max_trials=25,
                         batch_arg_name="batch_size", margin=0.05, max_val=8192):
        """The largest batch size (by ``mode``: "power" doubling, "binsearch" then bisecting) that trains without
        running out of memory; also written to the model's ``batch_arg_name``."""
        _check(train_dataloaders, val_dataloaders, dataloaders, method)
        if method != "fit":
            raise ValueError(f"ember.lightning's Tuner scales the batch size during fit; method={method!r} is not "
                             "supported")
        if self._trainer.world_size > 1:
            raise ValueError("Tuning the batch size is currently not supported with distributed strategies.")
        if any(isinstance(c, BatchSizeFinder) for c in self._trainer.callbacks):
            raise ValueError("Trainer is already configured with a `BatchSizeFinder` callback.Please remove it if you "
                             "want to use the Tuner.")
        finder = BatchSizeFinder(mode=mode, steps_per_trial=steps_per_trial, init_val=init_val, max_trials=max_trials,
                                 batch_arg_name=batch_arg_name, margin=margin, max_val=max_val)
        return self._run(finder, model, train_dataloaders, val_dataloaders, datamodule).optimal_batch_size

    def _run(self, finder, model, train_dataloaders, val_dataloaders, datamodule):
        finder._early_exit = True
        trainer = self._trainer
        trainer.callbacks = [finder] + trainer.callbacks
        try:
            trainer.fit(model, train_dataloaders, val_dataloaders, datamodule)
        finally:
            trainer.callbacks = [c for c in trainer.callbacks if c is not finder]
        return finder


def _check(train_dataloaders, val_dataloaders, dataloaders, method):
    methods = ("fit", "validate", "test", "predict")
    if method not in methods:
        raise ValueError(f"method {method!r} is invalid. Should be one of {methods}.")
    if method == "fit" and dataloaders is not None:
        raise ValueError(f"In tuner with method={method!r}, `dataloaders` argument should be None, please consider "
                         "setting `train_dataloaders` and `val_dataloaders` instead.")
    if method != "fit" and (train_dataloaders is not None or val_dataloaders is not None):
        raise ValueError(f"In tuner with `method`={method!r}, `train_dataloaders` and `val_dataloaders` arguments "
                         "should be None, please consider setting `dataloaders` instead.")
