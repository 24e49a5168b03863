"""What a Lightning program shows its user, compared with real PyTorch Lightning 2.6 on the same program: the
logged messages (device info, the model summary table with FLOPs and sizes, why fit stopped, checkpoints restored),
the warnings, the printed test table, which checkpoint ``ckpt_path`` None/"best"/"last" loads (also from a fresh
Trainer), the metrics left after predict, ``hparams``' printed form and ``lightning.pytorch.utilities``."""
import json

import numpy
import pytest

import ember

from .lightning_oracle import run_lightning

PROGRAM = """
import contextlib, io, json, logging, os, warnings

messages = []


class Collect(logging.Handler):
    def emit(self, record):
        messages.append(record.getMessage())


logging.getLogger(LOGGER).addHandler(Collect())
warnings.simplefilter("always")


class Model(pl.LightningModule):
    def __init__(self, hidden=8, lr=0.1):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Linear(4, hidden), nn.Tanh(), nn.Linear(hidden, 3))
        self.head = nn.Dropout(0.0)
        self.head.eval()
        self.scale = nn.Parameter(torch.ones(3))
        self.example_input_array = torch.zeros(5, 4)

    def forward(self, x):
        return self.head(self.net(x)) * self.scale

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.log("test_loss", nn.functional.cross_entropy(self(x), y))
        self.log("a_long_metric_name_for_the_table", (self(x).argmax(1) == y).float().mean())

    def predict_step(self, batch, batch_idx):
        return self(batch[0]).argmax(1)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


g = torch.Generator().manual_seed(0)
x = torch.randn(40, 4, generator=g)
y = (x[:, 0] > 0).long() + (x[:, 1] > 0.3).long()
loader = DataLoader(TensorDataset(x, y), batch_size=10)
torch.manual_seed(0)
model = Model()
out = io.StringIO()
with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out):
    trainer = pl.Trainer(max_epochs=2, enable_progress_bar=False, logger=False, default_root_dir=".",
                         callbacks=[ModelCheckpoint(dirpath="ck", save_last=True)])
    trainer.fit(model, loader)
    test = trainer.test(dataloaders=loader)
    trainer.predict(dataloaders=loader, ckpt_path="last")
    after_predict = sorted(trainer.callback_metrics)
    fresh = pl.Trainer(max_epochs=3, enable_progress_bar=False, enable_model_summary=False, logger=False,
                       callbacks=[ModelCheckpoint(dirpath="ck", save_last=True)])
    fresh.fit(Model(), loader, ckpt_path="last")
    resumed_step = fresh.global_step
    empty = pl.Trainer(max_epochs=1, enable_progress_bar=False, logger=False, enable_model_summary=False,
                       callbacks=[ModelCheckpoint(dirpath="nothing_here")])
    empty.fit(Model(), loader, ckpt_path="last")
    missing = str(AttributeDict(a=1)["a"])
    try:
        AttributeDict().missing
    except AttributeError as error:
        missing = str(error)
    try:
        pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False).test(ckpt_path="best")
    except Exception as error:
        missing += " | " + type(error).__name__
here = os.getcwd()
result = {"messages": [m.replace(here, "HERE") for m in messages],
          "warnings": [str(w.message).replace(here, "HERE") for w in caught
                       if "LeafSpec" not in str(w.message)],
          "printed": out.getvalue(), "test": test, "after_predict": after_predict, "resumed_step": resumed_step,
          "hparams": repr(model.hparams), "missing": missing,
          "rank": rank_zero_only.rank, "human": [get_human_readable_count(n) for n in (0, 123, 1234, 101_770, 5e15)]}
print(json.dumps(result))
"""

EMBER_IMPORTS = """
import ember as torch
import ember.lightning as pl
from ember import nn
from ember.utils.data import DataLoader, TensorDataset
from ember.lightning.callbacks import ModelCheckpoint
from ember.lightning.utilities import AttributeDict, rank_zero_only
from ember.lightning.utilities.model_summary import get_human_readable_count
LOGGER = "ember.lightning"
"""

TORCH_IMPORTS = """
import torch
import pytorch_lightning as pl
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.utilities import AttributeDict, rank_zero_only
from pytorch_lightning.utilities.model_summary import get_human_readable_count
LOGGER = "pytorch_lightning"
"""


def _without_tips(messages):
    """Lightning 2.6 also logs advertisements for its cloud packages; ember has none to offer."""
    return [m for m in messages if not m.startswith("💡 Tip")]


def test_messages_summary_tables_and_checkpoint_choice_match_lightning(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "120")
    theirs = run_lightning(TORCH_IMPORTS + PROGRAM, tmp_path)
    for path in ("ck", "nothing_here"):
        for name in (tmp_path / path).glob("*") if (tmp_path / path).exists() else ():
            name.unlink()
    namespace = {}
    exec(compile(EMBER_IMPORTS + PROGRAM, "program", "exec"), namespace)   # it records its own warnings
    ours = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    theirs["messages"] = _without_tips(theirs["messages"])
    for key in ("messages", "warnings", "after_predict", "resumed_step", "hparams", "missing", "rank", "human"):
        assert ours[key] == theirs[key], key
    assert ours["test"][0].keys() == theirs["test"][0].keys()
    for name, value in theirs["test"][0].items():
        assert ours["test"][0][name] == pytest.approx(value, rel=1e-5)
    assert ours["printed"].splitlines()[:3] == theirs["printed"].splitlines()[:3]   # the table's layout
    assert ember.lightning.utilities.grad_norm(ember.nn.Linear(2, 2), 2) == {}
    numpy.testing.assert_equal(len(ours["messages"]), len(theirs["messages"]))


MODES = """
import json


class Model(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
        self.frozen = nn.BatchNorm1d(4)
        self.frozen.eval()
        self.seen = []

    def forward(self, x):
        return self.frozen(self.body(x)).sum(1)

    def record(self, where):
        self.seen.append([where, self.training, self.body[1].training, self.frozen.training])

    def training_step(self, batch, batch_idx):
        self.record("train")
        return self(batch[0]).pow(2).mean()

    def validation_step(self, batch, batch_idx):
        self.record("val")

    def test_step(self, batch, batch_idx):
        self.record("test")

    def predict_step(self, batch, batch_idx):
        self.record("predict")

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class Custom(Model):
    def on_validation_model_train(self):
        self.train()


loader = DataLoader(TensorDataset(torch.ones(4, 4)), batch_size=2)
seen = {}
for cls in (Model, Custom):
    model = cls()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(model, loader, loader)
        trainer.test(model, loader, verbose=False)
        trainer.predict(model, loader)
    model.record("after")
    seen[cls.__name__] = model.seen
print(json.dumps(seen))
"""


def test_module_modes_are_kept_through_fit_and_restored_after_evaluation_as_lightning(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    program = "import warnings\n" + MODES
    theirs = run_lightning(TORCH_IMPORTS + program, tmp_path)
    exec(compile(EMBER_IMPORTS + program, "program", "exec"), {})
    ours = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert ours == theirs
