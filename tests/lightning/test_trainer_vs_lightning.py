"""The same Lightning program run by ember.lightning and by real PyTorch Lightning 2.x from the same weights and data:
logged metrics, CSV rows, checkpoints chosen, early stopping, test results and final weights agree, and each side
loads the other's checkpoints."""
import csv
import json
import os
import pathlib

import numpy
import pytest

import ember

from .lightning_oracle import run_lightning

EMBER_IMPORTS = """
import ember as torch
import ember.lightning as pl
from ember import nn
from ember.utils.data import DataLoader, TensorDataset
from ember.lightning.callbacks import EarlyStopping, ModelCheckpoint
from ember.lightning.loggers import CSVLogger
"""

TORCH_IMPORTS = """
import torch
import pytorch_lightning as pl
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from pytorch_lightning.callbacks import EarlyStopping, ModelCheckpoint
from pytorch_lightning.loggers import CSVLogger
"""

MODEL = """
import json, os
import numpy as np

with np.load("data.npz") as data:
    x, y = torch.tensor(data["x"]), torch.tensor(data["y"]).long()


class Model(pl.LightningModule):
    def __init__(self, lr=0.2, hidden=8):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Linear(4, hidden), nn.Tanh(), nn.Linear(hidden, 3))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.cross_entropy(self(x), y)
        self.log("train_loss", loss, prog_bar=True, on_step=True, on_epoch=True)
        self.log("train_worst", loss, on_step=False, on_epoch=True, reduce_fx="max")
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", nn.functional.cross_entropy(self(x), y))
        self.log("val_acc", (self(x).argmax(1) == y).float().mean(), prog_bar=True)

    def on_validation_epoch_end(self):
        self.log("val_epochs_seen", float(self.current_epoch), reduce_fx="sum")

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.log("test_accuracy", (self(x).argmax(1) == y).float().mean())
        self.log("test_loss", nn.functional.cross_entropy(self(x), y))

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=0.9)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
        return [optimizer], [scheduler]


def weights_of(model):
    return {k: v.detach().numpy().tolist() for k, v in model.state_dict().items()}


model = Model()
with np.load("weights.npz") as initial:
    model.load_state_dict({k: torch.tensor(initial[k]) for k in initial.files})
loader = DataLoader(TensorDataset(x, y), batch_size=10)   # 64 samples: the last batch has 4 (weighted means)
"""

FIT = MODEL + """
checkpoint = ModelCheckpoint(monitor="val_loss", save_top_k=2, save_last=True, filename="{epoch}-{val_loss:.3f}")
trainer = pl.Trainer(max_epochs=4, callbacks=[checkpoint], enable_progress_bar=False, enable_model_summary=False,
                     logger=CSVLogger("logs"), accumulate_grad_batches=2, gradient_clip_val=0.5,
                     log_every_n_steps=1, accelerator="cpu", devices=1)
trainer.fit(model, loader, loader)
test = trainer.test(model, loader, verbose=False)
best_test = trainer.test(dataloaders=loader, ckpt_path="best", verbose=False)
last = torch.load(checkpoint.last_model_path, weights_only=False)
result = {
    "callback_metrics": {k: float(v) for k, v in trainer.callback_metrics.items()},
    "logged_metrics": sorted(trainer.logged_metrics),
    "progress_bar_metrics": sorted(trainer.progress_bar_metrics),
    "global_step": trainer.global_step, "current_epoch": trainer.current_epoch,
    "checkpoints": sorted(os.listdir(checkpoint.dirpath)),
    "checkpoint_dir": os.path.relpath(checkpoint.dirpath),
    "best": os.path.basename(checkpoint.best_model_path), "best_score": float(checkpoint.best_model_score),
    "kth": os.path.basename(checkpoint.kth_best_model_path),
    "test": test, "best_test": best_test,
    "last_keys": sorted(last), "last_epoch": last["epoch"], "last_step": last["global_step"],
    "last_hparams": dict(last["hyper_parameters"]), "lr": trainer.optimizers[0].param_groups[0]["lr"],
    "weights": weights_of(model), "log_dir": os.path.relpath(trainer.log_dir),
}
"""

EARLY_STOP = MODEL + """
stopper = EarlyStopping(monitor="val_acc", mode="max", patience=2, min_delta=0.01)
trainer = pl.Trainer(max_epochs=30, callbacks=[stopper], enable_progress_bar=False, enable_model_summary=False,
                     logger=False, enable_checkpointing=False, num_sanity_val_steps=0, accelerator="cpu")
model.hparams.lr = 0.005
trainer.fit(model, loader, loader)
result = {"stopped_epoch": stopper.stopped_epoch, "wait_count": stopper.wait_count,
          "best_score": float(stopper.best_score), "current_epoch": trainer.current_epoch,
          "global_step": trainer.global_step, "weights": weights_of(model)}
"""


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    make_data(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def make_data(tmp_path):
    """Writes the programs' data (data.npz) and starting weights (weights.npz) into ``tmp_path``."""
    rng = numpy.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype(numpy.float32)
    y = ((x[:, 0] > 0).astype(numpy.int64) + (x[:, 1] > 0.3).astype(numpy.int64))
    numpy.savez(tmp_path / "data.npz", x=x, y=y)
    ember.manual_seed(0)
    net = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.Tanh(), ember.nn.Linear(8, 3))
    numpy.savez(tmp_path / "weights.npz", **{f"net.{k}": v.numpy() for k, v in net.state_dict().items()})


def run_ember(program, workdir):
    namespace = {}
    exec(compile(EMBER_IMPORTS + program, "program", "exec"), namespace)
    return json.loads(json.dumps(namespace["result"]))


def csv_rows(path):
    with open(path, newline="") as file:
        return [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(file)]


def assert_weights_close(ours, theirs):
    assert sorted(ours) == sorted(theirs)
    for key in ours:
        numpy.testing.assert_allclose(ours[key], theirs[key], rtol=1e-4, atol=1e-5, err_msg=key)


@pytest.mark.timeout(1200)
def test_fit_test_and_checkpoints_match_lightning(workdir):
    ours = run_ember(FIT, workdir)
    ember_rows = csv_rows(pathlib.Path(ours["log_dir"]) / "metrics.csv")
    os.rename("logs", "ember_logs")
    theirs = run_lightning(TORCH_IMPORTS + FIT + "\nprint(json.dumps(result))", workdir)
    lightning_rows = csv_rows(pathlib.Path(theirs["log_dir"]) / "metrics.csv")

    assert ours["callback_metrics"].keys() == theirs["callback_metrics"].keys()
    for name, value in theirs["callback_metrics"].items():
        assert ours["callback_metrics"][name] == pytest.approx(value, rel=1e-4, abs=1e-6), name
    for key in ("logged_metrics", "progress_bar_metrics", "global_step", "current_epoch", "checkpoints", "best",
                "kth", "last_keys", "last_epoch", "last_step", "last_hparams", "lr", "checkpoint_dir", "log_dir"):
        assert ours[key] == theirs[key], key
    assert ours["best_score"] == pytest.approx(theirs["best_score"], rel=1e-5)
    for mine, real in ((ours["test"], theirs["test"]), (ours["best_test"], theirs["best_test"])):
        assert len(mine) == len(real) == 1 and mine[0].keys() == real[0].keys()
        for name, value in real[0].items():
            assert mine[0][name] == pytest.approx(value, rel=1e-5), name
    assert_weights_close(ours["weights"], theirs["weights"])
    assert len(ember_rows) == len(lightning_rows)
    for mine, real in zip(ember_rows, lightning_rows):
        assert mine.keys() == real.keys()
        for name, value in real.items():
            assert mine[name] == pytest.approx(value, rel=1e-4, abs=1e-6), (name, real)


@pytest.mark.timeout(1200)
def test_early_stopping_stops_where_lightning_does(workdir):
    ours = run_ember(EARLY_STOP, workdir)
    theirs = run_lightning(TORCH_IMPORTS + EARLY_STOP + "\nprint(json.dumps(result))", workdir)
    assert (ours["stopped_epoch"], ours["wait_count"], ours["current_epoch"], ours["global_step"]) == (
        theirs["stopped_epoch"], theirs["wait_count"], theirs["current_epoch"], theirs["global_step"])
    assert ours["best_score"] == pytest.approx(theirs["best_score"], rel=1e-6)
    assert theirs["current_epoch"] < 30   # it did stop early
    assert_weights_close(ours["weights"], theirs["weights"])


LOAD_OTHERS = """
restored = Model.load_from_checkpoint(PATH)
result = {"hparams": dict(restored.hparams), "weights": weights_of(restored)}
"""


@pytest.mark.timeout(1200)
def test_checkpoints_load_both_ways(workdir):
    ours = run_ember(FIT, workdir)
    ember_last = os.path.abspath(os.path.join(ours["checkpoint_dir"], "last.ckpt"))
    os.rename("logs", "ember_logs")
    ember_last = ember_last.replace(os.sep + "logs" + os.sep, os.sep + "ember_logs" + os.sep)
    theirs = run_lightning(TORCH_IMPORTS + FIT + "\nprint(json.dumps(result))", workdir)
    lightning_last = os.path.abspath(os.path.join(theirs["checkpoint_dir"], "last.ckpt"))

    loaded_by_lightning = run_lightning(TORCH_IMPORTS + MODEL + f"\nPATH = {ember_last!r}\n" + LOAD_OTHERS
                                        + "\nprint(json.dumps(result))", workdir)
    assert loaded_by_lightning["hparams"] == {"lr": 0.2, "hidden": 8}
    assert_weights_close(loaded_by_lightning["weights"], ours["weights"])

    loaded_by_ember = run_ember(MODEL + f"\nPATH = {lightning_last!r}\n" + LOAD_OTHERS, workdir)
    assert loaded_by_ember["hparams"] == {"lr": 0.2, "hidden": 8}
    assert_weights_close(loaded_by_ember["weights"], theirs["weights"])


BATCH_END_OUTPUTS = MODEL + """
class Recorder(pl.Callback):
    def __init__(self):
        self.seen = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.seen.append({k: float(v) if isinstance(v, torch.Tensor) else v for k, v in outputs.items()}
                         if isinstance(outputs, dict) else repr(outputs))


class Returns(Model):
    def __init__(self, kind, manual):
        super().__init__()
        self.kind, self.automatic_optimization = kind, not manual

    def training_step(self, batch, batch_idx):
        loss = nn.functional.cross_entropy(self(batch[0]), batch[1])
        if not self.automatic_optimization:
            self.manual_backward(loss)
            self.optimizers().step()
            self.optimizers().zero_grad()
        if self.kind == "none" or (self.kind == "mixed" and batch_idx % 3 == 1):
            return None
        return {"loss": loss, "size": len(batch[0])} if self.kind == "dict" else loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


result = {}
for kind in ("tensor", "dict", "none", "mixed"):
    for manual in (False, True):
        net = Returns(kind, manual)
        net.load_state_dict(model.state_dict())
        recorder = Recorder()
        pl.Trainer(max_epochs=1, callbacks=[recorder], accumulate_grad_batches=1 if manual else 3, logger=False,
                   enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                   num_sanity_val_steps=0, accelerator="cpu").fit(net, loader)
        result[f"{kind}-{manual}"] = recorder.seen
"""


def test_train_batch_end_outputs_match_lightning(workdir):
    """``on_train_batch_end`` gets Lightning's outputs: a dict with the detached loss, divided by
    ``accumulate_grad_batches`` under automatic optimization, ``{}`` for a skipped step."""
    ours = run_ember(BATCH_END_OUTPUTS, workdir)
    theirs = run_lightning(TORCH_IMPORTS + BATCH_END_OUTPUTS + "\nprint(json.dumps(result))", workdir)
    assert ours.keys() == theirs.keys()
    for case, expected in theirs.items():
        assert len(ours[case]) == len(expected) == 7, case
        for got, want in zip(ours[case], expected):
            assert type(got) is type(want) and (got.keys() == want.keys() if isinstance(want, dict) else got == want)
            for key, value in (want.items() if isinstance(want, dict) else ()):
                assert got[key] == pytest.approx(value, rel=1e-5), (case, key)
