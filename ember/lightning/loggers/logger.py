"""Logger: where the Trainer sends metrics and hyperparameters."""
import json
import os
import warnings


class Logger:
    """Base of loggers: ``log_metrics``, ``log_hyperparams``, and the folder they write under."""

    @property
    def name(self):
        """The experiment's name."""
        return ""

    @property
    def version(self):
        """The run's version (a number or a string)."""
        return None

    @property
    def save_dir(self):
        """The folder experiments are saved under."""
        return None

    @property
    def root_dir(self):
        """``save_dir/name``."""
        return os.path.join(self.save_dir or "", self.name)

    @property
    def log_dir(self):
        """Where this run writes."""
        version = self.version if isinstance(self.version, str) else f"version_{self.version}"
        return os.path.join(self.root_dir, version)

    @property
    def group_separator(self):
        """What joins a metric's group and name (``DeviceStatsMonitor.on_train_batch_end/cpu_percent``)."""
        return "/"

    def log_metrics(self, metrics, step=None):
        """Records scalar ``metrics`` at ``step``."""

    def log_hyperparams(self, params, *args, **kwargs):
        """Records the run's hyperparameters."""

    def log_graph(self, model, input_array=None):
        """Records the model's graph, where the logger can."""

    def save(self):
        """Writes what is buffered."""

    def finalize(self, status):
        """Called when the run ends."""
        self.save()


def next_version(root):
    """The first ``N`` for which ``root/version_N`` does not exist yet."""
    if not os.path.isdir(root):
        return 0
    taken = [int(name.split("_")[1]) for name in os.listdir(root)
             if name.startswith("version_") and name.split("_")[1].isdigit()]
    return max(taken) + 1 if taken else 0


def save_hparams_to_yaml(path, hparams):
    """Writes ``hparams`` as YAML (through PyYAML when installed; otherwise one ``key: value`` line each, the values
    as JSON scalars, which are YAML too)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as file:
        try:
            import yaml
        except ImportError:
            for key, value in hparams.items():
                file.write(f"{key}: {json.dumps(value, default=str)}\n")
        else:   # as Lightning: each value YAML can dump as it is (tuples tagged); others left out with a warning
            import enum
            allowed = {}
            for key, value in dict(hparams).items():
                value = value.name if isinstance(value, enum.Enum) else value
                try:
                    yaml.dump(value)
                except (TypeError, ValueError):   # left out of the file, as Lightning's writer leaves it
                    warnings.warn(f"Skipping '{key}' parameter because it is not possible to safely dump to YAML.")
                else:
                    allowed[key] = value
            yaml.dump(allowed, file)
