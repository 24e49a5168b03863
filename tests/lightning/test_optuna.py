"""The Optuna pruning callback: a study over a LightningModule's learning rate reports each epoch's validation
metric to its trial and prunes the trials Optuna's pruner rejects."""
import pytest

import ember
import ember.lightning as pl
from ember import nn
from ember.lightning.integration import PruningCallback
from ember.utils.data import DataLoader, TensorDataset

optuna = pytest.importorskip("optuna")


class Regressor(pl.LightningModule):
    def __init__(self, lr):
        super().__init__()
        ember.manual_seed(0)
        self.layer = nn.Linear(3, 1)
        self.lr = lr
        self.seen = []

    def training_step(self, batch, batch_idx):
        return nn.functional.mse_loss(self.layer(batch[0]), batch[1])

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", nn.functional.mse_loss(self.layer(batch[0]), batch[1]))

    def on_validation_epoch_end(self):
        if not self.trainer.sanity_checking:
            self.seen.append(float(self.trainer.callback_metrics["val_loss"]))

    def configure_optimizers(self):
        return ember.optim.SGD(self.parameters(), lr=self.lr)


def test_study_reports_every_epoch_and_prunes_bad_trials():
    ember.manual_seed(1)
    x = ember.randn(40, 3)
    data = TensorDataset(x, x @ ember.tensor([[1.0], [-2.0], [0.5]]) + 0.1)
    loader = DataLoader(data, batch_size=10)
    history = {}

    def objective(trial):
        model = Regressor(trial.suggest_float("lr", 1e-4, 0.3, log=True))
        trainer = pl.Trainer(max_epochs=4, callbacks=[PruningCallback(trial, monitor="val_loss")], logger=False,
                             enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
        try:
            trainer.fit(model, loader, loader)
        finally:
            history[trial.number] = model.seen
        return model.seen[-1]

    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0))
    study.optimize(objective, n_trials=8)
    for trial in study.trials:
        assert list(trial.intermediate_values) == list(range(len(history[trial.number])))
        assert list(trial.intermediate_values.values()) == pytest.approx(history[trial.number])
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert pruned and complete
    assert all(len(history[t.number]) < 4 for t in pruned)
    assert study.best_value == min(t.value for t in complete)


def test_missing_metric_warns_and_does_not_prune():
    study = optuna.create_study()
    trial = study.ask()
    callback = PruningCallback(trial, monitor="nope")
    model = Regressor(0.1)
    trainer = pl.Trainer(max_epochs=1, callbacks=[callback], logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False)
    data = DataLoader(TensorDataset(ember.randn(4, 3), ember.randn(4, 1)), batch_size=2)
    with pytest.warns(UserWarning, match="The metric 'nope' is not in the evaluation logs for pruning"):
        trainer.fit(model, data, data)
    assert trial.number == 0 and study.trials[0].intermediate_values == {}
