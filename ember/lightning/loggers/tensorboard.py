"""TensorBoardLogger: the Trainer's metrics as TensorBoard scalars under ``save_dir/name/version_N`` (through
``ember.utils.tensorboard.SummaryWriter``), and the hyperparameters in ``hparams.yaml``."""
import os

from .logger import Logger, next_version, save_hparams_to_yaml


class TensorBoardLogger(Logger):
    """Writes each logged metric with ``add_scalar`` at its step; needs tensorboardX (the tensorboard extra)."""

    NAME_HPARAMS_FILE = "hparams.yaml"

    def __init__(self, save_dir, name="lightning_logs", version=None, log_graph=False, default_hp_metric=True,
                 prefix="", sub_dir=None, **kwargs):
        self._save_dir, self._name, self._version = os.fspath(save_dir), name or "", version
        self._prefix, self._sub_dir, self._kwargs = prefix, sub_dir, kwargs
        self._experiment = None
        self.hparams = {}

    @property
    def name(self):
        return self._name

    @property
    def save_dir(self):
        return self._save_dir

    @property
    def version(self):
        if self._version is None:
            self._version = next_version(self.root_dir)
        return self._version

    @property
    def log_dir(self):
        folder = super().log_dir
        return os.path.join(folder, self._sub_dir) if self._sub_dir else folder

    @property
    def experiment(self):
        """The SummaryWriter (made on first use)."""
        if self._experiment is None:
            from ember.utils.tensorboard import SummaryWriter
            self._experiment = SummaryWriter(log_dir=self.log_dir, **self._kwargs)
        return self._experiment

    def log_metrics(self, metrics, step=None):
        for name, value in metrics.items():
            tag = f"{self._prefix}-{name}" if self._prefix else name
            if isinstance(value, dict):
                self.experiment.add_scalars(tag, value, step)
            else:
                self.experiment.add_scalar(tag, float(value), step)

    def log_hyperparams(self, params, metrics=None):
        self.hparams.update(dict(params))
        save_hparams_to_yaml(os.path.join(self.log_dir, self.NAME_HPARAMS_FILE), self.hparams)

    def save(self):
        if self._experiment is not None:
            self._experiment.flush()

    def finalize(self, status):
        if self._experiment is not None:
            self._experiment.flush()
            self._experiment.close()
            self._experiment = None
