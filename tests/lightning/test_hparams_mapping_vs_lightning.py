"""``save_hyperparameters(config)`` with a mapping that is not a dict (pytorch-tabular passes an OmegaConf
DictConfig) keeps that object as ``hparams``, as real Lightning 2.x does; and ``core.saving.get_filesystem`` is
Lightning's (fsspec's filesystem for a path)."""
import pytest

from .lightning_oracle import run_lightning
from .test_trainer_vs_lightning import run_ember

PROGRAM = """
import json
from collections.abc import MutableMapping


class Config(MutableMapping):   # a mapping of its own kind, with attribute access, as a DictConfig
    def __init__(self, **items):
        object.__setattr__(self, "items_", dict(items))

    def __getattr__(self, key):
        try:
            return self.__dict__["items_"][key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key, value):
        self.items_[key] = value

    def __getitem__(self, key):
        return self.items_[key]

    def __setitem__(self, key, value):
        self.items_[key] = value

    def __delitem__(self, key):
        del self.items_[key]

    def __iter__(self):
        return iter(self.items_)

    def __len__(self):
        return len(self.items_)


class Model(pl.LightningModule):
    def __init__(self, config):
        super().__init__()
        merged = Config(**config, width=3)
        self.save_hyperparameters(merged)
        self.net = nn.Linear(2, self.hparams.width)
        self.hparams.later = 1


config = Config(lr=0.1)
model = Model(config)
result = {"type": type(model.hparams).__name__, "same": model.hparams is not config,
          "hparams": dict(model.hparams), "initial_type": type(model.hparams_initial).__name__,
          "initial": dict(model.hparams_initial), "name": model._hparams_name}
"""


def test_a_mapping_config_becomes_hparams_as_in_lightning(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ours = run_ember(PROGRAM, tmp_path)
    theirs = run_lightning("import torch\nimport pytorch_lightning as pl\nfrom torch import nn\n" + PROGRAM
                           + "\nprint(json.dumps(result))", tmp_path)
    assert ours == theirs
    assert ours["type"] == "Config" and ours["hparams"] == {"lr": 0.1, "width": 3, "later": 1}
    assert ours["initial"] == {"lr": 0.1, "width": 3}


def test_get_filesystem_is_fsspecs_filesystem_for_the_path(tmp_path):
    url_to_fs = pytest.importorskip("fsspec.core").url_to_fs
    from ember.lightning.core.saving import get_filesystem
    for path in (tmp_path / "model.ckpt", "memory://bucket/model.ckpt"):
        filesystem = get_filesystem(path)
        assert type(filesystem) is type(url_to_fs(str(path))[0])
    filesystem = get_filesystem(tmp_path / "model.ckpt")
    filesystem.makedirs(str(tmp_path / "sub"), exist_ok=True)
    with filesystem.open(str(tmp_path / "sub" / "f.txt"), "w") as file:
        file.write("x")
    assert (tmp_path / "sub" / "f.txt").read_text() == "x"
