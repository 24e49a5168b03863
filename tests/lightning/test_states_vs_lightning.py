"""``trainer.state`` (fn, stage, status) and the stage flags at every hook of fit (sanity check and validation
inside), validate, test, predict and an interrupted fit, compared with real Lightning 2.x running the same program;
``lightning.pytorch.trainer.states`` under the alias."""
import subprocess
import sys

from .lightning_oracle import run_lightning
from .test_trainer_vs_lightning import run_ember

PROGRAM = """
import json

HOOKS = ["setup", "teardown", "on_fit_start", "on_fit_end", "on_sanity_check_start", "on_sanity_check_end",
         "on_train_start", "on_train_end", "on_train_epoch_start", "on_train_epoch_end", "on_train_batch_start",
         "on_train_batch_end", "on_before_backward", "on_after_backward", "on_before_optimizer_step",
         "on_before_zero_grad", "on_exception", "on_save_checkpoint"] + [
         f"on_{stage}_{part}" for stage in ("validation", "test", "predict")
         for part in ("start", "end", "epoch_start", "epoch_end", "batch_start", "batch_end")]
records = []


def record(trainer, name):
    state = trainer.state
    records.append([name, state.fn.value if state.fn is not None else None,
                    state.stage.value if state.stage is not None else None, state.status.value, state.finished,
                    state.stopped, trainer.training, trainer.validating, trainer.testing, trainer.predicting,
                    trainer.sanity_checking, trainer.evaluating, trainer.interrupted])


class Recorder(pl.Callback):
    pass


def make_hook(name):
    def hook(self, trainer, *args, **kwargs):
        record(trainer, name)
    return hook


for name in HOOKS:
    setattr(Recorder, name, make_hook(name))


class Model(pl.LightningModule):
    def __init__(self, fail_at=None):
        super().__init__()
        self.net = nn.Linear(2, 1)
        self.fail_at = fail_at

    def training_step(self, batch, batch_idx):
        if batch_idx == self.fail_at:
            raise ValueError("stop here")
        return self.net(batch[0]).pow(2).mean()

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", self.net(batch[0]).pow(2).mean())

    def test_step(self, batch, batch_idx):
        self.log("test_loss", self.net(batch[0]).pow(2).mean())

    def predict_step(self, batch, batch_idx):
        return self.net(batch[0])

    def configure_optimizers(self):
        record(self.trainer, "configure_optimizers")
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def on_validation_model_zero_grad(self):
        record(self.trainer, "on_validation_model_zero_grad")
        super().on_validation_model_zero_grad()

    def on_validation_model_eval(self):
        record(self.trainer, "on_validation_model_eval")
        super().on_validation_model_eval()

    def on_validation_model_train(self):
        record(self.trainer, "on_validation_model_train")
        super().on_validation_model_train()


def loader():
    return DataLoader(TensorDataset(torch.arange(12.0).reshape(6, 2) / 10), batch_size=2)


def new_trainer():
    return pl.Trainer(max_epochs=2, limit_train_batches=3, limit_val_batches=2, num_sanity_val_steps=1,
                      val_check_interval=2, logger=False, enable_progress_bar=False, enable_model_summary=False,
                      enable_checkpointing=False, callbacks=[Recorder()], default_root_dir=".")


trainer = new_trainer()
record(trainer, "created")
model = Model()
trainer.fit(model, loader(), loader())
record(trainer, "after fit")
trainer.validate(model, loader(), verbose=False)
record(trainer, "after validate")
trainer.test(model, loader(), verbose=False)
record(trainer, "after test")
trainer.predict(model, loader())
record(trainer, "after predict")
trainer.training = True
record(trainer, "set training")
trainer.validating = False
record(trainer, "cleared validating")
trainer.training = False
record(trainer, "cleared training")
trainer = new_trainer()
try:
    trainer.fit(Model(fail_at=1), loader(), loader())
except ValueError as error:
    records.append(["raised", str(error)])
record(trainer, "after interrupted fit")
result = {"records": records}
"""

STATES = """
from {package}.trainer.states import RunningStage, TrainerFn, TrainerState, TrainerStatus
state = TrainerState()
result["enums"] = [TrainerFn.FITTING == "FIT", TrainerFn.FITTING == "fit", RunningStage.SANITY_CHECKING.evaluating,
                   RunningStage.TRAINING.evaluating, RunningStage.SANITY_CHECKING.dataloader_prefix,
                   RunningStage.TESTING.dataloader_prefix, TrainerStatus.INTERRUPTED.stopped,
                   TrainerStatus.RUNNING.stopped, state.status.value, state.fn, state.stage, state.finished,
                   hash(TrainerFn.TESTING) == hash("TEST"), TrainerFn.from_str("fitting").value,
                   RunningStage.from_str("sanity_check", source="value").value,
                   [member.value for member in RunningStage]]
"""


def test_states_at_every_hook_match_lightning(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ours = run_ember(PROGRAM + STATES.format(package="ember.lightning"), tmp_path)
    theirs = run_lightning("import torch\nimport pytorch_lightning as pl\nfrom torch import nn\n"
                           "from torch.utils.data import DataLoader, TensorDataset\n" + PROGRAM
                           + STATES.format(package="pytorch_lightning") + "\nprint(json.dumps(result))", tmp_path)
    assert ours["enums"] == theirs["enums"]
    for index, (mine, real) in enumerate(zip(ours["records"], theirs["records"])):
        assert mine == real, (index, mine, real)
    assert len(ours["records"]) == len(theirs["records"])
    names = {record[0]: record for record in ours["records"]}
    # the facts the comparison rests on, spelled out
    assert names["on_sanity_check_start"][1:4] == ["fit", "sanity_check", "running"]
    assert names["on_validation_model_zero_grad"][1:4] == ["fit", "validate", "running"]
    assert names["on_train_end"][1:4] == ["fit", "train", "running"]
    assert names["after fit"][1:6] == ["fit", None, "finished", True, True]
    assert names["on_exception"][3] == "interrupted" and names["on_exception"][2] == "train"
    assert names["after interrupted fit"][2:4] == [None, "interrupted"] and names["after interrupted fit"][-1]


def test_states_module_resolves_under_the_alias():
    code = ("import ember\nember.install_torch_alias()\n"
            "from lightning.pytorch.trainer.states import TrainerFn, TrainerState\n"
            "from pytorch_lightning.trainer.states import RunningStage\n"
            "from lightning.pytorch.trainer.trainer import Trainer\nimport lightning.pytorch as pl\n"
            "print(Trainer is pl.Trainer, isinstance(pl.Trainer().state, TrainerState), "
            "pl.Trainer().state.fn is None, RunningStage.TRAINING == 'train', TrainerFn.FITTING.value)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "True", "fit"]
