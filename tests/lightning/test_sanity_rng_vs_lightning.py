"""The sanity check runs inside ``isolate_rng`` as in Lightning: the random draws its dataloader iterators and steps
make are undone, so a shuffled training loader gives real Lightning's batch order; ``isolate_rng`` itself restores
Python's, NumPy's and the tensor generators' states."""
import numpy
import pytest

from .lightning_oracle import run_lightning
from .test_trainer_vs_lightning import run_ember

EMBER = """
import ember as torch
import ember.lightning as pl
from ember.utils.data import DataLoader, TensorDataset
from ember.lightning.utilities.seed import isolate_rng
"""

TORCH = """
import torch
import pytorch_lightning as pl
from torch.utils.data import DataLoader, TensorDataset
from pytorch_lightning.utilities.seed import isolate_rng
"""

PROGRAM = """
import json, random
import numpy as np

random.seed(0)
np.random.seed(0)
rng = np.random.RandomState(0)
x, y = torch.tensor(rng.randn(40, 3).astype(np.float32)), torch.tensor(rng.randn(40, 1).astype(np.float32))
seen = []


class Model(pl.LightningModule):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = torch.nn.Linear(3, 1)

    def training_step(self, batch, batch_idx):
        seen.append(round(float(batch[0].sum()), 4))
        return torch.nn.functional.mse_loss(self.net(batch[0]), batch[1])

    def validation_step(self, batch, batch_idx):
        self.log("noise", float(torch.rand(1)) + random.random() + np.random.rand())   # draws in the sanity check

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


trainer = pl.Trainer(max_epochs=2, logger=False, enable_progress_bar=False, enable_model_summary=False,
                     enable_checkpointing=False)
trainer.fit(Model(), DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True),
            DataLoader(TensorDataset(x, y), batch_size=8))
result = {"seen": seen, "after": [float(torch.rand(1)), random.random(), float(np.random.rand())]}
with isolate_rng():
    inside = [float(torch.rand(1)), random.random(), float(np.random.rand())]
result["isolated"] = [float(torch.rand(1)), random.random(), float(np.random.rand())] == inside
"""


@pytest.mark.timeout(1200)
def test_sanity_check_leaves_the_training_order_as_lightning(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ours = run_ember(EMBER + PROGRAM, tmp_path)
    theirs = run_lightning(TORCH + PROGRAM + "\nprint(json.dumps(result))", tmp_path)
    assert ours["seen"] == theirs["seen"] and len(ours["seen"]) == 10
    numpy.testing.assert_allclose(ours["after"], theirs["after"], rtol=1e-6)
    assert ours["isolated"] and theirs["isolated"]
