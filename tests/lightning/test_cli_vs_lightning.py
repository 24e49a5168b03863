"""LightningCLI run by ember.lightning and by real PyTorch Lightning 2.x on the same program (needs jsonargparse, the
``cli`` extra): --print_config for each subcommand, a fit from a YAML config with command-line overrides (a callback,
the optimizer and scheduler chosen by name), the config saved to the log directory, the logged metrics, and a
validate restoring the checkpoint's hyperparameters."""
import importlib.util
import json
import re
import warnings

import pytest

from .lightning_oracle import run_lightning

EMBER = """
import ember as torch
from ember import nn
from ember.lightning import LightningDataModule, LightningModule
from ember.lightning.cli import LightningCLI
from ember.utils.data import DataLoader, TensorDataset
CALLBACKS = "ember.lightning.callbacks"
"""

TORCH = """
import torch
from torch import nn
from pytorch_lightning import LightningDataModule, LightningModule
from pytorch_lightning.cli import LightningCLI
from torch.utils.data import DataLoader, TensorDataset
CALLBACKS = "pytorch_lightning.callbacks"
"""

PROGRAM = '''
import contextlib, csv, io, json, os, warnings


class Model(LightningModule):
    def __init__(self, hidden: int = 8, lr: float = 0.1):
        """A tiny classifier.

        Args:
            hidden: width of the hidden layer
            lr: learning rate
        """
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, 2))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.cross_entropy(self.net(x), y)
        self.log("loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", nn.functional.cross_entropy(self.net(x), y))

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.log("test_loss", nn.functional.cross_entropy(self.net(x), y))

    def predict_step(self, batch, batch_idx):
        return self.net(batch[0]).argmax(1)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


class Data(LightningDataModule):
    def __init__(self, batch_size: int = 4, size: int = 16):
        super().__init__()
        self.batch_size, self.size = batch_size, size

    def setup(self, stage):
        data = [float((i * 37) % 11) / 11 - 0.5 for i in range(self.size * 4)]
        x = torch.tensor(data).reshape(self.size, 4)
        self.data = TensorDataset(x, (x.sum(1) > 0).long())

    def train_dataloader(self):
        return DataLoader(self.data, batch_size=self.batch_size)

    val_dataloader = test_dataloader = predict_dataloader = train_dataloader


def printed_config(*args):
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.suppress(SystemExit):
        LightningCLI(Model, Data, args=list(args))
    return output.getvalue()


result = {name: printed_config(name, "--print_config") for name in ("fit", "validate", "test", "predict")}
result["print_optimizer"] = printed_config("fit", "--optimizer", "Adam", "--optimizer.lr", "0.01", "--lr_scheduler",
                                           "StepLR", "--lr_scheduler.step_size", "3", "--print_config")
HELPS = {"help_fit": ["fit", "--help"], "help_validate": ["validate", "--help"],
         "help_predict": ["predict", "--help"], "help_adam": ["fit", "--optimizer.help", "Adam"],
         "help_sgd": ["fit", "--optimizer.help", "SGD"], "help_step_lr": ["fit", "--lr_scheduler.help", "StepLR"],
         "help_one_cycle": ["fit", "--lr_scheduler.help", "OneCycleLR"],
         "help_plateau": ["fit", "--lr_scheduler.help", LightningCLI.__module__ + ".ReduceLROnPlateau"]}
result.update({name: printed_config(*args) for name, args in HELPS.items()})
with open("run.yaml", "w") as file:
    file.write(f"""seed_everything: 7
trainer:
  max_epochs: 2
  enable_progress_bar: false
  enable_model_summary: false
  limit_train_batches: 3
  log_every_n_steps: 1
  logger:
    class_path: {CALLBACKS.replace("callbacks", "loggers")}.CSVLogger
    init_args:
      save_dir: logs
  callbacks:
    - class_path: {CALLBACKS}.EarlyStopping
      init_args:
        monitor: val_loss
model:
  hidden: 6
""")
result["print_from_file"] = printed_config("fit", "--config", "run.yaml", "--model.lr", "0.05", "--print_config")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    cli = LightningCLI(Model, Data, args=["fit", "--config", "run.yaml", "--optimizer", "Adam", "--optimizer.lr",
                                          "0.01", "--lr_scheduler", "StepLR", "--lr_scheduler.step_size", "1"])
result["warnings"] = [str(w.message) for w in caught if "configure_optimizers" in str(w.message)]
log_dir = cli.trainer.log_dir
with open(os.path.join(log_dir, "config.yaml")) as file:
    result["saved"] = file.read()
with open(os.path.join(log_dir, "metrics.csv")) as file:
    result["metrics"] = [{k: round(float(v), 4) for k, v in row.items() if v} for row in csv.DictReader(file)]
result["callbacks"] = sorted(type(c).__name__ for c in cli.trainer.callbacks)
result["hparams"] = dict(cli.model.hparams)
result["optimizer"] = type(cli.trainer.optimizers[0]).__name__.replace("Lightning", "")
checkpoint = os.path.join(log_dir, "checkpoints", os.listdir(os.path.join(log_dir, "checkpoints"))[0])
with warnings.catch_warnings(record=True) as caught:   # the checkpoint's EarlyStopping is not given again
    warnings.simplefilter("always")
    later = LightningCLI(Model, Data, args=["validate", "--ckpt_path", checkpoint, "--trainer.logger", "false",
                                            "--trainer.enable_progress_bar", "false"])
result["validate_warnings"] = [str(w.message) for w in caught if "ckpt_path" in str(w.message)]
result["restored_hidden"] = later.model.hparams.hidden
loaded = Model.load_from_checkpoint(checkpoint)   # rebuilt as the CLI built it
result["loaded"] = [type(loaded).__name__, loaded.hparams.hidden, loaded.net[0].out_features]
result["restored_from"] = later.config.validate.model.hidden
'''


def mask(text):
    """Our config as Lightning's names it (ember's modules are torch's and Lightning's under ``ember run``; this test
    imports ember directly)."""
    return _whole_limit(text.replace("ember.lightning.", "pytorch_lightning.").replace("ember.optim.", "torch.optim."))


def _whole_limit(text):
    """The config file's ``limit_train_batches: 3`` as one spelling: jsonargparse resolves its ``Union[int, float]``
    to either type depending on what the process loaded before (both seen, in Lightning's and ember's runs); the
    Trainers treat 3 and 3.0 alike."""
    return text.replace("limit_train_batches: 3.0\n", "limit_train_batches: 3\n")


@pytest.mark.timeout(900)
def test_cli_configs_and_runs_match_lightning(tmp_path, monkeypatch):
    pytest.importorskip("jsonargparse")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ours").mkdir()
    (tmp_path / "theirs").mkdir()
    monkeypatch.chdir(tmp_path / "ours")
    monkeypatch.setattr("sys.argv", ["program"])   # the CLI warns when both args and a command line are given
    monkeypatch.setenv("COLUMNS", "200")   # the help's line width, for both runs (Lightning's inherits it)
    namespace = {}
    from jsonargparse._deprecated import JsonargparseDeprecationWarning
    with warnings.catch_warnings():   # jsonargparse's deprecation of what Lightning calls too
        warnings.filterwarnings("ignore", category=JsonargparseDeprecationWarning)
        exec(compile(EMBER + PROGRAM, "program", "exec"), namespace)
    ours = json.loads(json.dumps(namespace["result"]))
    theirs = run_lightning(TORCH + PROGRAM + "\nprint(json.dumps(result))", tmp_path / "theirs")
    assert ours.keys() == theirs.keys()
    for key in theirs:
        if key.startswith("help_"):
            assert_same_help(ours[key], theirs[key], key)
        elif isinstance(theirs[key], str):
            assert mask(ours[key]) == _whole_limit(theirs[key]), key
        else:
            assert ours[key] == theirs[key], key


# The arguments whose types differ from Lightning's, and why: ember.lightning has no Accelerator classes or plugins,
# and its Trainer takes the precisions it implements (Lightning's also has 'transformer-engine', '16-true', ...).
DIFFERENT_TYPES = {"--trainer.accelerator", "--trainer.plugins", "--trainer.precision"}


def help_options(text):
    """jsonargparse's --help text as {option: (description, its type and default)}."""
    options, current = {}, None
    for line in text.split("\n\n", 1)[1].splitlines():   # (after the usage lines)
        match = re.match(r"^  (-[-\w.]+)(?: (?:[^ ]| (?! ))+)?(?:  +(.*))?$", line)
        if match:
            current = match.group(1)
            options[current] = (match.group(2) or "").strip()
        elif current and line.startswith(" " * 24):
            options[current] += " " + line.strip()
        else:
            current = None
    split = {}
    for option, text in options.items():   # jsonargparse appends "(type: ..., default: ...)" to the description
        found = [*re.finditer(r"\((?:required, )?type: ", text)] or [*re.finditer(r"\(default: ", text)]
        start = found[-1].start() if found and text.endswith(")") else len(text)
        split[option] = (text[:start].strip(), text[start + 1:-1] if start < len(text) else None)
    return split


def same_type(mine, theirs):
    """Type and default texts equal but for the known subclasses listed (each library's own classes) and the order
    that typing caches an int/float Union in."""
    def plain(text):
        text = re.sub(r", known subclasses: .*$", "", text or "").replace("ember.", "torch.")
        return text.replace("Union[int, float", "Union[float, int")
    return plain(mine) == plain(theirs)


def assert_same_help(mine, theirs, key):
    """The same options, each with a description where Lightning's has one and the same type and default."""
    mine, theirs = help_options(mask(mine)), help_options(theirs)
    helps = {option for option in theirs if option.endswith(".help")} - set(mine)
    assert helps <= {f"{option}.help" for option in DIFFERENT_TYPES}, (key, helps)
    assert set(mine) == set(theirs) - helps, (key, set(mine) ^ set(theirs))
    for option, (description, type_text) in theirs.items():
        if option in mine:
            assert bool(mine[option][0]) == bool(description), (key, option, mine[option], description)
            assert option in DIFFERENT_TYPES or same_type(mine[option][1], type_text), \
                (key, option, mine[option][1], type_text)


MISSING = """
try:
    LightningCLI(args=["fit"])
    result = None
except Exception as error:
    result = [type(error).__name__, str(error)]
"""


@pytest.mark.skipif(importlib.util.find_spec("jsonargparse") is not None, reason="jsonargparse is installed here")
def test_cli_without_jsonargparse_fails_as_lightning(tmp_path):
    namespace = {}
    exec("from ember.lightning.cli import LightningCLI\n" + MISSING, namespace)
    theirs = run_lightning("import json\nfrom pytorch_lightning.cli import LightningCLI\n" + MISSING
                           + "\nprint(json.dumps(result))", tmp_path)
    assert namespace["result"] == theirs
