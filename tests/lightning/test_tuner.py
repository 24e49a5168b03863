"""Tuner.lr_find and Tuner.scale_batch_size against real Lightning 2.x on the same model, weights and data: the same
learning rates, smoothed losses and suggestion; the same batch sizes tried (memory running out above a size) and
found; the model and trainer put back as they were."""
import json

import numpy
import pytest

import ember

from .lightning_oracle import run_lightning
from .test_trainer_vs_lightning import run_ember

EMBER = """
import ember as torch
import ember.lightning as pl
from ember import nn
from ember.utils.data import DataLoader, TensorDataset
from ember.lightning.tuner import Tuner
OutOfMemory = MemoryError   # what NumPy raises when an allocation fails
"""

TORCH = """
import torch
import pytorch_lightning as pl
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from pytorch_lightning.tuner import Tuner
def OutOfMemory():   # torch's CPU allocator failing
    return RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1 bytes")
"""

PROGRAM = """
import json, os
import numpy as np

with np.load("data.npz") as data:
    x, y = torch.tensor(data["x"]), torch.tensor(data["y"]).long()
weights = dict(np.load("weights.npz"))


class Model(pl.LightningModule):
    def __init__(self, lr=0.01, batch_size=4, memory_limit=None):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3)).double()
        self.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
        self.tried = []

    def training_step(self, batch, batch_idx):
        x, y = batch
        self.tried.append(len(x))
        if self.hparams.memory_limit and len(x) > self.hparams.memory_limit:
            raise OutOfMemory()
        return nn.functional.cross_entropy(self.net(x), y)

    def train_dataloader(self):
        return DataLoader(TensorDataset(x, y), batch_size=self.hparams.batch_size)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=0.9)


def trainer():
    return pl.Trainer(max_epochs=100, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                      enable_model_summary=False, default_root_dir=".")


def unchanged(model):
    return all(np.array_equal(v.detach().numpy(), weights[k]) for k, v in model.state_dict().items())


torch.manual_seed(0)
model, tuner_trainer = Model(), trainer()
finder = Tuner(tuner_trainer).lr_find(model, min_lr=1e-5, max_lr=10.0, num_training=60)
result = {"lr": finder.results["lr"], "loss": finder.results["loss"], "suggestion": finder.suggestion(),
          "hparams_lr": model.hparams.lr, "restored": unchanged(model), "global_step": tuner_trainer.global_step,
          "rng": torch.rand(3).tolist(), "leftovers": sorted(os.listdir("."))}
linear = Tuner(trainer()).lr_find(Model(), mode="linear", num_training=20, update_attr=False)
result["linear_lr"], result["linear_loss"] = linear.results["lr"], linear.results["loss"]
for mode in ("power", "binsearch"):
    model = Model(memory_limit=24)
    found = Tuner(trainer()).scale_batch_size(model, mode=mode, steps_per_trial=2)
    result[mode] = {"found": found, "batch_size": model.hparams.batch_size, "tried": model.tried,
                    "restored": unchanged(model)}
"""


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    rng = numpy.random.RandomState(3)
    numpy.savez(tmp_path / "data.npz", x=rng.randn(64, 4), y=rng.randint(0, 3, 64))
    ember.manual_seed(1)
    net = ember.nn.Sequential(ember.nn.Linear(4, 16), ember.nn.Tanh(), ember.nn.Linear(16, 3)).double()
    numpy.savez(tmp_path / "weights.npz", **{f"net.{k}": v.numpy() for k, v in net.state_dict().items()})
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.timeout(1200)
def test_tuner_matches_lightning(workdir):
    ours = run_ember(EMBER + PROGRAM, workdir)
    theirs = run_lightning(TORCH + PROGRAM + "\nprint(json.dumps(result))", workdir)
    assert len(ours["lr"]) == len(theirs["lr"]) and len(ours["lr"]) < 60   # the divergence stop at the same step
    numpy.testing.assert_allclose(ours["lr"], theirs["lr"], rtol=1e-12)
    numpy.testing.assert_allclose(ours["loss"], theirs["loss"], rtol=1e-9)
    assert ours["suggestion"] == pytest.approx(theirs["suggestion"], rel=1e-12)
    assert ours["hparams_lr"] == pytest.approx(theirs["hparams_lr"], rel=1e-12) and ours["hparams_lr"] != 0.01
    numpy.testing.assert_allclose(ours["linear_lr"], theirs["linear_lr"], rtol=1e-12)
    numpy.testing.assert_allclose(ours["linear_loss"], theirs["linear_loss"], rtol=1e-9)
    for key in ("restored", "global_step", "rng", "leftovers", "power", "binsearch"):
        assert ours[key] == theirs[key], key
    assert ours["restored"] and ours["power"]["found"] == 16 and ours["binsearch"]["found"] == 22
    json.dumps(ours)


def test_lr_find_needs_an_lr_attribute_and_one_fit_method():
    import ember.lightning as pl
    from ember.lightning.tuner import Tuner

    class NoLR(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = ember.nn.Linear(2, 1)

        def training_step(self, batch, batch_idx):   # without one, fit refuses the module before the finder runs
            return self.layer(batch[0]).sum()

        def configure_optimizers(self):
            return ember.optim.SGD(self.parameters(), lr=0.1)

    tuner = Tuner(pl.Trainer(logger=False, enable_progress_bar=False, enable_model_summary=False))
    with pytest.raises(AttributeError, match="learning_rate"):
        tuner.lr_find(NoLR(), train_dataloaders=[(ember.ones(2, 2), ember.ones(2, 1))])
    with pytest.raises(ValueError, match="only valid configuration"):
        tuner.lr_find(NoLR(), method="test")
    with pytest.raises(ValueError, match="should be either"):
        pl.callbacks.BatchSizeFinder(mode="triple")


def test_lr_find_plot_marks_the_suggestion(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    import ember.lightning as pl
    from ember.lightning.tuner import Tuner

    class Regression(pl.LightningModule):
        def __init__(self, lr=0.1):
            super().__init__()
            self.save_hyperparameters()
            self.layer = ember.nn.Linear(3, 1)

        def training_step(self, batch, batch_idx):
            return ember.nn.functional.mse_loss(self.layer(batch[0]), batch[1])

        def configure_optimizers(self):
            return ember.optim.SGD(self.parameters(), lr=self.hparams.lr)

    ember.manual_seed(0)
    x = ember.randn(32, 3)
    data = ember.utils.data.DataLoader(ember.utils.data.TensorDataset(x, x.sum(1, keepdim=True)), batch_size=4)
    trainer = pl.Trainer(logger=False, enable_progress_bar=False, enable_model_summary=False,
                         enable_checkpointing=False, default_root_dir=tmp_path)
    finder = Tuner(trainer).lr_find(Regression(), train_dataloaders=data, max_lr=0.1, num_training=30,
                                    early_stop_threshold=None)
    figure = finder.plot(suggest=True)
    line, marker = figure.axes[0].lines
    numpy.testing.assert_allclose(line.get_xdata(), finder.results["lr"])
    assert marker.get_xdata()[0] == finder.suggestion() and figure.axes[0].get_xscale() == "log"
    figure.savefig(tmp_path / "lr.png")
    assert (tmp_path / "lr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
