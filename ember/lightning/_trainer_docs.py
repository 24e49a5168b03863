"""What the Trainer's arguments mean, appended to the Trainer's and its entry points' docstrings as ``Args:``
sections: ``help()`` shows them, and LightningCLI's ``--help`` prints each beside its type (jsonargparse reads
them)."""
from ..optim._arg_docs import add_args_section

_LIMIT = ("how much of the {} data to use per epoch: a fraction (float) or a number of batches (int), on each "
          "device; None: 1.0")
_TRAINER = {
    "accelerator": "the device type to run on, e.g. 'cpu', 'gpu' or 'auto'",
    "strategy": "how the work is distributed: a name ('auto', 'ddp', ...) or a Strategy",
    "devices": "the devices to use: a number, a list of indices, -1 for all of them, or 'auto'",
    "num_nodes": "number of machines taking part in distributed training",
    "precision": "numeric precision: '32-true', '64-true', '16-mixed' or 'bf16-mixed' (or 32, 64, 16, 'bf16'); "
                 "None: '32-true'",
    "logger": "the experiment logger(s); True: TensorBoardLogger when tensorboard is installed, else CSVLogger; "
              "False: none. Checkpoints and other files go to the first logger's log_dir",
    "callbacks": "a callback, or a list of callbacks, to add",
    "fast_dev_run": "run only n batches (True: 1) of training, validation and testing, without logging or "
                    "checkpoints, as a quick check of the code",
    "max_epochs": "stop after this many epochs; None (with max_steps -1): 1000; -1: no limit",
    "min_epochs": "train for at least this many epochs",
    "max_steps": "stop after this many optimizer steps; -1: no limit",
    "min_steps": "train for at least this many optimizer steps",
    "max_time": "stop after this much time: 'DD:HH:MM:SS', a timedelta, or a dict of timedelta's arguments",
    "limit_train_batches": _LIMIT.format("training"),
    "limit_val_batches": _LIMIT.format("validation"),
    "limit_test_batches": _LIMIT.format("test"),
    "limit_predict_batches": _LIMIT.format("prediction"),
    "overfit_batches": "train and validate on this fraction (float) or number (int) of the training batches only",
    "val_check_interval": "how often to validate within a training epoch: a fraction of the epoch (float), a number "
                          "of batches (int), or a duration; None: once per epoch",
    "check_val_every_n_epoch": "validate every n training epochs; None: as val_check_interval alone says",
    "num_sanity_val_steps": "validation batches run before training as a check; -1: all of them; None: 2",
    "log_every_n_steps": "logging interval in training steps; None: 50",
    "enable_checkpointing": "add a ModelCheckpoint callback when none is given; None: True",
    "enable_progress_bar": "show a progress bar; None: True",
    "enable_model_summary": "print a summary of the module when fitting starts; None: True",
    "accumulate_grad_batches": "number of batches whose gradients add up before each optimizer step",
    "gradient_clip_val": "clip the gradients at this value; None or 0: no clipping",
    "gradient_clip_algorithm": "'norm' (the gradients' total norm) or 'value' (each element); None: 'norm'",
    "deterministic": "use only deterministic algorithms (True), warn where one is not ('warn'), or not (False)",
    "benchmark": "let cuDNN time and pick its convolution algorithms; None: leave the setting as it is",
    "inference_mode": "evaluate under inference_mode (True) rather than no_grad (False)",
    "use_distributed_sampler": "give the dataloaders a DistributedSampler when several processes train",
    "profiler": "profile the run: a Profiler, or a name ('simple', 'advanced', 'pytorch', 'xla')",
    "detect_anomaly": "turn on autograd's anomaly detection",
    "barebones": "leave out every feature that costs speed (logging, checkpoints, progress bar, summary, ...), "
                 "to measure raw speed",
    "plugins": "plugins for precision, checkpoint IO or the cluster environment",
    "sync_batchnorm": "synchronize batch-norm statistics across processes",
    "reload_dataloaders_every_n_epochs": "reload the dataloaders every n epochs; 0: never",
    "default_root_dir": "where logs and checkpoints go when no logger or checkpoint callback says; None: the "
                        "working directory",
    "enable_autolog_hparams": "log the module's and the datamodule's hyperparameters to the loggers",
    "model_registry": "the name under which the model is uploaded to a model registry",
}
_RUN = {
    "ckpt_path": "the checkpoint to start from: a path, or 'best' / 'last' (this Trainer's best / latest one)",
    "weights_only": "ember.load's weights_only for the checkpoint; None: False (ember.lightning reads its own "
                    "checkpoints)",
    "verbose": "print the results",
    "return_predictions": "return the predictions; None: True",
}


def document(trainer_class):
    """Appends the Args sections to ``trainer_class`` and to its fit, validate, test and predict methods."""
    add_args_section(trainer_class, _TRAINER)
    for name in ("fit", "validate", "test", "predict"):
        add_args_section(getattr(trainer_class, name), _RUN)
