"""A CheckpointIO plugin (``Trainer(plugins=[...])``, as darts passes one to load its checkpoints safely) gets every
checkpoint save, load and removal, with Lightning's arguments: ModelCheckpoint's top-k files, the learning-rate
finder's restore, resuming with ``ckpt_path`` and ``weights_only``; compared call by call with real Lightning 2.x."""
import shutil

import numpy
import pytest

from .lightning_oracle import run_lightning
from .test_trainer_vs_lightning import run_ember

EMBER = """
import ember as torch
import ember.lightning as pl
from ember import nn
from ember.utils.data import DataLoader, TensorDataset
from ember.lightning.tuner import Tuner
from ember.lightning.utilities.exceptions import MisconfigurationException
Base = object   # ember's Trainer takes any object with CheckpointIO's three methods
"""

TORCH = """
import torch
import pytorch_lightning as pl
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from pytorch_lightning.tuner import Tuner
from pytorch_lightning.plugins import CheckpointIO as Base
from lightning_fabric.utilities.exceptions import MisconfigurationException
"""

PROGRAM = """
import json, os, warnings
import numpy as np
warnings.filterwarnings("ignore", "Checkpoint directory .* exists and is not empty")   # the resumed fit's

with np.load("data.npz") as data:
    x, y = torch.tensor(data["x"]), torch.tensor(data["y"]).long()
calls = []


def short(path):   # the learning-rate finder's file, .lr_find_<uuid>.ckpt, as ".lr"
    return os.path.basename(path).split("_")[0]


class RecordingIO(Base):
    def save_checkpoint(self, checkpoint, path, storage_options=None):
        calls.append(["save", short(path), sorted(k for k in checkpoint if k != "pytorch-lightning_version")])
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        torch.save(checkpoint, path)

    def load_checkpoint(self, path, map_location=None, weights_only=None):
        calls.append(["load", short(path), weights_only])
        return torch.load(path, weights_only=False)

    def remove_checkpoint(self, path):
        calls.append(["remove", short(path)])
        os.remove(path)


class Model(pl.LightningModule):
    def __init__(self, lr=0.05):
        super().__init__()
        self.save_hyperparameters()
        torch.manual_seed(0)
        self.net = nn.Linear(4, 3).double()

    def training_step(self, batch, batch_idx):
        loss = nn.functional.cross_entropy(self.net(batch[0]), batch[1])
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", -float(self.current_epoch))   # improves every epoch: each save replaces the last

    def train_dataloader(self):
        return DataLoader(TensorDataset(x, y), batch_size=16)

    def val_dataloader(self):
        return DataLoader(TensorDataset(x, y), batch_size=32)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def trainer(io, epochs=3, **kw):
    return pl.Trainer(max_epochs=epochs, logger=False, enable_progress_bar=False, enable_model_summary=False,
                      default_root_dir=".", plugins=[io], num_sanity_val_steps=0,
                      callbacks=[pl.callbacks.ModelCheckpoint(dirpath="ckpts", monitor="val_loss", save_top_k=1)],
                      **kw)


io = RecordingIO()
first = trainer(io)
first.fit(Model())
result = {"fit": calls[:], "files": sorted(os.listdir("ckpts")), "io": first.strategy.checkpoint_io is io}
del calls[:]
Tuner(trainer(io)).lr_find(Model(), num_training=5, early_stop_threshold=None)
result["lr_find"] = calls[:]
del calls[:]
resumed = trainer(io, epochs=4)
resumed.fit(Model(), ckpt_path=first.checkpoint_callback.best_model_path, weights_only=True)
result["resume"], result["epoch"] = calls[:], resumed.current_epoch
result["ckpt_path"] = os.path.basename(resumed.ckpt_path)
result["kept"] = sorted(os.listdir("ckpts"))   # the checkpoint resumed from is not removed
try:
    pl.Trainer(plugins=[RecordingIO(), RecordingIO()], logger=False)
except MisconfigurationException as error:
    result["error"] = str(error)
"""


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    rng = numpy.random.RandomState(3)
    numpy.savez(tmp_path / "data.npz", x=rng.randn(64, 4), y=rng.randint(0, 3, 64))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.timeout(1200)
def test_checkpoint_io_plugin_gets_the_calls_lightning_makes(workdir):
    ours = run_ember(EMBER + PROGRAM, workdir)
    shutil.rmtree(workdir / "ckpts")
    theirs = run_lightning(TORCH + PROGRAM + "\nprint(json.dumps(result))", workdir)
    assert ours == theirs
    assert ours["io"] and [call[0] for call in ours["fit"]] == ["save", "save", "remove", "save", "remove"]
    assert [call[:2] for call in ours["lr_find"]] == [["save", ".lr"], ["load", ".lr"], ["remove", ".lr"]]
    assert ours["resume"][0] == ["load", "epoch=2-step=12.ckpt", True] and len(ours["resume"]) == 2
    assert ours["kept"] == ["epoch=2-step=12.ckpt", "epoch=3-step=16.ckpt"]
