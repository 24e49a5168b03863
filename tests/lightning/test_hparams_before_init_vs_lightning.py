"""``save_hyperparameters()`` called before ``super().__init__()`` (as pytorch-forecasting's models do) keeps what it
saved, as in real Lightning 2.x: hparams, hparams_initial, the checkpoint's hyper_parameters and
load_from_checkpoint."""
from .lightning_oracle import run_lightning
from .test_trainer_vs_lightning import run_ember

PROGRAM = """
import json


class Early(pl.LightningModule):
    def __init__(self, hidden=4, lr=0.1, **kwargs):
        self.save_hyperparameters()
        super().__init__()
        self.net = nn.Linear(2, hidden)

    def training_step(self, batch, batch_idx):
        return self.net(batch[0]).sum()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


model = Early(hidden=3, extra="x")
trainer = pl.Trainer(max_epochs=1, logger=False, enable_progress_bar=False, enable_model_summary=False,
                     default_root_dir=".")
trainer.fit(model, DataLoader(TensorDataset(torch.ones(4, 2)), batch_size=2))
trainer.save_checkpoint("early.ckpt")
loaded = Early.load_from_checkpoint("early.ckpt")
result = {"hparams": dict(model.hparams), "initial": dict(model.hparams_initial),
          "checkpoint": dict(torch.load("early.ckpt", weights_only=False)["hyper_parameters"]),
          "loaded": dict(loaded.hparams), "out_features": loaded.net.out_features}
"""


def test_save_hyperparameters_before_init_matches_lightning(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ours = run_ember(PROGRAM, tmp_path)
    theirs = run_lightning("import torch\nimport pytorch_lightning as pl\nfrom torch import nn\n"
                           "from torch.utils.data import DataLoader, TensorDataset\n" + PROGRAM
                           + "\nprint(json.dumps(result))", tmp_path)
    assert ours == theirs
    assert ours["hparams"] == {"hidden": 3, "lr": 0.1, "extra": "x"} and ours["out_features"] == 3


def test_core_module_paths_resolve_under_the_alias():
    import subprocess
    import sys
    code = ("import ember\nember.install_torch_alias()\n"
            "from lightning.pytorch.core.datamodule import LightningDataModule\n"
            "from lightning.pytorch.core.module import LightningModule\nimport lightning.pytorch as pl\n"
            "print(LightningDataModule is pl.LightningDataModule, LightningModule is pl.LightningModule)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]
