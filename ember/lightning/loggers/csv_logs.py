"""CSVLogger: metrics to ``metrics.csv`` and hyperparameters to ``hparams.yaml`` under
``save_dir/name/version_N``, as Lightning writes them."""
import csv
import os

from .logger import Logger, next_version, save_hparams_to_yaml


class CSVLogger(Logger):
    """Writes one CSV row per logged step (columns sorted, ``step`` included) and the hyperparameters as YAML."""

    NAME_HPARAMS_FILE = "hparams.yaml"
    NAME_METRICS_FILE = "metrics.csv"

    def __init__(self, save_dir, name="lightning_logs", version=None, prefix="", flush_logs_every_n_steps=100):
        self._save_dir, self._name, self._version = os.fspath(save_dir), name or "", version
        self._prefix, self._flush_every = prefix, flush_logs_every_n_steps
        self.metrics, self.metrics_keys, self.hparams = [], [], {}

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
    def experiment(self):
        """The logger itself (Lightning returns its experiment writer)."""
        return self

    def log_hyperparams(self, params, *args, **kwargs):
        self.hparams.update(dict(params) if not hasattr(params, "__dict__") or isinstance(params, dict)
                            else vars(params))
        save_hparams_to_yaml(os.path.join(self.log_dir, self.NAME_HPARAMS_FILE), self.hparams)

    def log_metrics(self, metrics, step=None):
        row = {(f"{self._prefix}-{k}" if self._prefix else k): (float(v) if hasattr(v, "item") else v)
               for k, v in metrics.items()}
        row["step"] = step if step is not None else len(self.metrics)
        self.metrics.append(row)
        if (row["step"] + 1) % self._flush_every == 0:
            self.save()

    def save(self):
        """Writes every row so far to ``metrics.csv`` (rewriting the header when new columns appeared)."""
        if not self.metrics:
            return
        os.makedirs(self.log_dir, exist_ok=True)
        path = os.path.join(self.log_dir, self.NAME_METRICS_FILE)
        rows = _read_rows(path) + self.metrics   # the file's columns too: another logger may have written it
        keys = sorted(set(self.metrics_keys).union(*rows))
        self.metrics_keys = keys
        with open(path + ".tmp", "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=keys)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(path + ".tmp", path)
        self.metrics = []


def _read_rows(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as file:
        return [{k: v for k, v in row.items() if v != ""} for row in csv.DictReader(file)]
