"""Where validation runs inside fit, counted as real Lightning 2.x counts it: with ``check_val_every_n_epoch=None``
an integer ``val_check_interval`` counts the batches of the whole fit across epochs (neuralforecast's trainers)."""
import pytest

from .lightning_oracle import run_lightning
from .test_trainer_vs_lightning import run_ember

PROGRAM = """
import json

class Model(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(2, 1)
        self.seen = []

    def training_step(self, batch, batch_idx):
        return self.net(batch[0]).pow(2).mean()

    def validation_step(self, batch, batch_idx):
        if batch_idx == 0:
            self.seen.append([self.current_epoch, self.global_step])

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def loader():
    return DataLoader(TensorDataset(torch.arange(20.0).reshape(10, 2) / 10), batch_size=2)


model = Model()
trainer = pl.Trainer(max_steps=MAX_STEPS, val_check_interval=INTERVAL, check_val_every_n_epoch=EVERY,
                     num_sanity_val_steps=0, logger=False, enable_progress_bar=False, enable_model_summary=False,
                     enable_checkpointing=False, default_root_dir=".")
trainer.fit(model, loader(), loader())
result = {"seen": model.seen, "global_step": trainer.global_step}
"""


@pytest.mark.parametrize("interval, every, max_steps", [(3, None, 14), (7, None, 20), (2, 2, 16)])
def test_validation_points_match_lightning(tmp_path, monkeypatch, interval, every, max_steps):
    monkeypatch.chdir(tmp_path)
    program = PROGRAM.replace("MAX_STEPS", str(max_steps)).replace("INTERVAL", str(interval)).replace(
        "EVERY", str(every))
    ours = run_ember(program, tmp_path)
    theirs = run_lightning("import torch\nimport pytorch_lightning as pl\nfrom torch import nn\n"
                           "from torch.utils.data import DataLoader, TensorDataset\n" + program
                           + "\nprint(json.dumps(result))", tmp_path)
    assert ours == theirs
    assert ours["seen"]   # validation ran
