"""Hyperparameter search with Optuna (an optional extra): ``PruningCallback`` reports a monitored metric to a trial
after each validation and stops the trial when Optuna's pruner says so. The search itself is Optuna's."""
import warnings

from ..callbacks import Callback

__all__ = ["PruningCallback", "PyTorchLightningPruningCallback"]


class PruningCallback(Callback):
    """Reports ``trainer.callback_metrics[monitor]`` to ``trial`` at each epoch's validation; raises
    ``optuna.TrialPruned`` when the trial should be pruned."""

    def __init__(self, trial, monitor):
        import optuna  # noqa: F401  (fail here, not in the middle of training, when Optuna is missing)
        self._trial, self.monitor = trial, monitor

    def on_validation_end(self, trainer, pl_module):
        if trainer.sanity_checking:
            return
        epoch = pl_module.current_epoch
        score = trainer.callback_metrics.get(self.monitor)
        if score is None:
            warnings.warn(f"The metric '{self.monitor}' is not in the evaluation logs for pruning. Please make sure "
                          "you set the correct metric name.")
            return
        self._trial.report(float(score), step=epoch)
        if self._trial.should_prune():
            import optuna
            raise optuna.TrialPruned(f"Trial was pruned at epoch {epoch}.")


PyTorchLightningPruningCallback = PruningCallback   # optuna-integration's name for it
