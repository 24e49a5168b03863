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


MANUAL = """
import contextlib, io, json, re, warnings
warnings.simplefilter("ignore")


class Pair(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.automatic_optimization = False
        self.a, self.b = nn.Linear(4, 2), nn.Linear(2, 1)

    def training_step(self, batch):   # no batch_idx: Lightning passes only what the signature takes
        opt_a, opt_b = self.optimizers()
        loss = self.b(self.a(batch[0])).pow(2).mean()
        for opt in (opt_a, opt_b):
            opt.zero_grad()
        self.manual_backward(loss)
        opt_a.step()
        opt_b.step()
        self.log_dict({"loss": loss, "half": loss / 2}, prog_bar=True)

    def validation_step(self, batch):
        self.log("val", self.b(self.a(batch[0])).mean(), prog_bar=True)

    def configure_optimizers(self):
        opt_a = torch.optim.SGD(self.a.parameters(), lr=0.1)
        opt_b = torch.optim.SGD(self.b.parameters(), lr=0.1)
        return [opt_a, opt_b], [torch.optim.lr_scheduler.StepLR(opt_a, 1, 0.5)]


torch.manual_seed(0)
loader = DataLoader(TensorDataset(torch.randn(12, 4)), batch_size=4)
model = Pair()
out = io.StringIO()
with contextlib.redirect_stdout(out):
    trainer = pl.Trainer(max_epochs=2, logger=CSVLogger("logs"), enable_model_summary=False, log_every_n_steps=1,
                         callbacks=[ModelCheckpoint(dirpath="ckpts")])
    trainer.fit(model, loader, loader)
bars = re.sub(r"\\x1b\\[[0-9;]*[A-Za-z]", "", out.getvalue())   # cursor moves
bars = re.sub(r"\\[[^\\]]*\\]", "[]", bars)   # elapsed times and rates vary
checkpoint = torch.load(trainer.checkpoint_callback.best_model_path, weights_only=False)
print(json.dumps({"bars": bars.split("\\r"), "loops": checkpoint["loops"], "keys": sorted(checkpoint),
                  "global_step": trainer.global_step, "lr": trainer.optimizers[0].param_groups[0]["lr"],
                  "pbar": {k: type(v).__name__ for k, v in trainer.progress_bar_metrics.items()},
                  "model": [type(pl.core.LightningModule).__name__]}, default=str))
"""


def test_progress_bar_manual_optimization_and_checkpoint_loops_match_lightning(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    imports = "from {0}.loggers import CSVLogger\n"
    theirs = run_lightning(TORCH_IMPORTS + imports.format("pytorch_lightning") + MANUAL, tmp_path)
    for path in (tmp_path / "ckpts").glob("*"):
        path.unlink()
    exec(compile(EMBER_IMPORTS + imports.format("ember.lightning") + MANUAL, "program", "exec"), {})
    ours = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("loops", "keys", "global_step", "lr", "pbar", "model"):
        assert ours[key] == theirs[key], key
    def drawn(bars):   # tqdm pads to the length of the previous (timed) line
        return [bar.strip() for bar in bars]

    assert drawn(ours["bars"]) == drawn(theirs["bars"])


HOOK_ORDER = """
import json, warnings
warnings.simplefilter("ignore")
calls = []


def recorder(base, prefix, name):
    def hook(self, *args, **kwargs):
        calls.append(prefix + name)
        return getattr(base, name)(self, *args, **kwargs)
    return hook


class Recorder(pl.Callback):
    pass


for name in dir(pl.Callback):
    if name.startswith("on_") or name in ("setup", "teardown"):
        setattr(Recorder, name, recorder(pl.Callback, "cb.", name))


class Model(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(2, 1)

    def training_step(self, batch, batch_idx):
        calls.append("m.training_step")
        return self.layer(batch[0]).pow(2).mean()

    def validation_step(self, batch, batch_idx):
        calls.append("m.validation_step")

    def test_step(self, batch, batch_idx):
        calls.append("m.test_step")

    def predict_step(self, batch, batch_idx):
        return self.layer(batch[0])

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=0.1)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


MODULE_HOOKS = ("setup", "teardown", "prepare_data", "configure_callbacks", "configure_model", "lr_scheduler_step",
                "optimizer_step", "optimizer_zero_grad", "backward", "configure_gradient_clipping",
                "on_before_batch_transfer", "transfer_batch_to_device", "on_after_batch_transfer")
for name in dir(pl.LightningModule):
    if (name.startswith("on_") or name in MODULE_HOOKS) and callable(getattr(pl.LightningModule, name)) \\
            and name != "on_validation_model_train":
        setattr(Model, name, recorder(pl.LightningModule, "m.", name))

loader = DataLoader(TensorDataset(torch.randn(4, 2)), batch_size=2)
trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                     enable_model_summary=False, callbacks=[Recorder()], limit_val_batches=1, num_sanity_val_steps=1,
                     gradient_clip_val=1.0, accumulate_grad_batches=2)
model = Model()
trainer.fit(model, loader, loader)
calls.append("--- test")
trainer.test(model, loader, verbose=False)
calls.append("--- predict")
trainer.predict(model, loader)
print(json.dumps(calls))
"""


def test_hooks_run_in_lightnings_order(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    theirs = run_lightning(TORCH_IMPORTS + HOOK_ORDER, tmp_path)
    exec(compile(EMBER_IMPORTS + HOOK_ORDER, "program", "exec"), {})
    ours = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert ours == theirs


PRECISION = """
import json, logging, warnings
messages = []


class Collect(logging.Handler):
    def emit(self, record):
        messages.append(record.getMessage())


logging.getLogger(LOGGER).addHandler(Collect())
chosen = {}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for value in ("32", 32, "64", "16", 16, "bf16", "32-true", "64-true", "16-mixed", "bf16-mixed"):
        trainer = pl.Trainer(precision=value, logger=False, enable_progress_bar=False, accelerator="cpu")
        chosen[str(value) + type(value).__name__] = [trainer.precision, type(trainer.strategy).__name__]
print(json.dumps({"chosen": chosen, "messages": [m for m in messages if "available" not in m],
                  "warnings": [str(w.message) for w in caught if "LeafSpec" not in str(w.message)]}))
"""


def test_precision_choices_on_the_cpu_match_lightning(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    theirs = run_lightning(TORCH_IMPORTS + PRECISION, tmp_path)
    exec(compile(EMBER_IMPORTS + PRECISION, "program", "exec"), {})
    ours = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    theirs["messages"] = _without_tips(theirs["messages"])
    assert ours == theirs


CONFIGURATION = """
import json, warnings


class Base(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(2, 1)
        self.seen = []

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).sum()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def on_validation_start(self):
        self.seen.append("validation")


class WithValidation(Base):
    def validation_step(self, batch, batch_idx):
        pass


class OldStyle(Base):
    def training_epoch_end(self, outputs):
        pass


class NoOptimizers(pl.LightningModule):
    def training_step(self, batch, batch_idx):
        pass


loader = DataLoader(TensorDataset(torch.randn(4, 2)), batch_size=2)
out = {}
for name, cls, val in (("no_val_step", Base, loader), ("no_val_loader", WithValidation, None),
                       ("old_style", OldStyle, None), ("no_optimizers", NoOptimizers, None), ("test", Base, "test")):
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False)
    model = cls()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if val == "test":
                trainer.test(model, loader)
            else:
                trainer.fit(model, loader, val)
            error = None
        except Exception as e:
            error = [type(e).__name__, str(e)]
    out[name] = {"error": error, "seen": getattr(model, "seen", None),
                 "warnings": [str(w.message) for w in caught if "LeafSpec" not in str(w.message)
                              and "logging interval" not in str(w.message)]}
print(json.dumps(out))
"""


def test_loop_configuration_checks_match_lightning(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    theirs = run_lightning(TORCH_IMPORTS + CONFIGURATION, tmp_path)
    exec(compile(EMBER_IMPORTS + CONFIGURATION, "program", "exec"), {})
    ours = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert ours == theirs


HPARAMS = """
import json, os, warnings
warnings.simplefilter("ignore")


class Model(pl.LightningModule):
    def __init__(self, hidden=4, lr=0.1, name="x", layers=(1, 2), net=None):
        super().__init__()
        self.save_hyperparameters(ignore=["net"])
        self.layer = nn.Linear(2, hidden)

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).sum()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


class Data(pl.LightningDataModule):
    def __init__(self, batch_size=2):
        super().__init__()
        self.save_hyperparameters()
        self.seen = 0

    def train_dataloader(self):
        return DataLoader(TensorDataset(torch.randn(4, 2)), batch_size=self.hparams.batch_size)

    def state_dict(self):
        return {"seen": 7}

    def load_state_dict(self, state):
        self.seen = state["seen"]


model = Model(hidden=3, name="y", net=nn.Linear(1, 1))
trainer = pl.Trainer(max_epochs=1, logger=CSVLogger("logs"), enable_progress_bar=False, enable_model_summary=False)
trainer.fit(model, datamodule=Data())
path = trainer.checkpoint_callback.best_model_path
checkpoint = torch.load(path, weights_only=False)
loaded = Model.load_from_checkpoint(path, lr=0.5)
data = Data.load_from_checkpoint(path)
with open(os.path.join(trainer.logger.log_dir, "hparams.yaml")) as file:
    yaml_text = file.read()
print(json.dumps({"printed": repr(model.hparams), "keys": sorted(checkpoint), "yaml": yaml_text,
                  "loaded": repr(loaded.hparams), "data": [repr(data.hparams), data.seen]}))
"""


def test_hyperparameters_reach_loggers_and_checkpoints_as_lightnings(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    imports = "from {0}.loggers import CSVLogger\n"
    theirs = run_lightning(TORCH_IMPORTS + imports.format("pytorch_lightning") + HPARAMS, tmp_path)
    exec(compile(EMBER_IMPORTS + imports.format("ember.lightning") + HPARAMS, "program", "exec"), {})
    ours = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert ours == theirs


LIMITS = """
import json, logging, warnings
warnings.simplefilter("ignore")
messages = []


class Collect(logging.Handler):
    def emit(self, record):
        messages.append(record.getMessage())


logging.getLogger(LOGGER).addHandler(Collect())
errors = []
for kwargs in ({"limit_train_batches": 1, "limit_val_batches": 1.0, "limit_test_batches": 1, "val_check_interval": 1},
               {"limit_predict_batches": 1.0, "val_check_interval": 1.0, "overfit_batches": 1, "limit_val_batches": 1},
               {"limit_val_batches": 2.5}, {"limit_test_batches": -1}):
    try:
        pl.Trainer(logger=False, enable_progress_bar=False, **kwargs)
    except Exception as error:
        errors.append([type(error).__name__, str(error)])
whole = pl.Trainer(logger=False, enable_progress_bar=False, limit_train_batches=3.0, limit_val_batches=2.0,
                   val_check_interval=4.0)   # whole-number floats (as a config file may give them) count batches
kept = [[type(v).__name__, v] for v in (whole.limit_train_batches, whole.limit_val_batches, whole.val_check_interval)]
print(json.dumps({"messages": [m for m in messages if "available" not in m], "errors": errors, "kept": kept}))
"""


def test_batch_limit_notes_and_errors_match_lightning(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    theirs = run_lightning(TORCH_IMPORTS + LIMITS, tmp_path)
    exec(compile(EMBER_IMPORTS + LIMITS, "program", "exec"), {})
    ours = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    theirs["messages"] = _without_tips(theirs["messages"])
    assert ours == theirs
