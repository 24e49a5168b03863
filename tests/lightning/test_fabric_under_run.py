"""Lightning Fabric (the real library) runs on ember under ``ember run``: the same program prints what it prints
on PyTorch (setup, empty-init through a TorchFunctionMode, bf16 autocast, backward, logging, save and load)."""
import json
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from .lightning_oracle import run_lightning

pytest.importorskip("lightning_fabric")
ROOT = str(pathlib.Path(__file__).resolve().parents[2])

PROGRAM = """
import json, os
import torch
from torch import nn
from lightning_fabric import Fabric, seed_everything
from lightning_fabric.loggers import CSVLogger

fabric = Fabric(accelerator="cpu", devices=1, precision="bf16-mixed", loggers=CSVLogger("logs", name="run"))
fabric.launch()
seed_everything(1)
with fabric.init_module(empty_init=True):
    skipped = nn.Linear(4, 3)
skipped.load_state_dict({"weight": torch.ones(3, 4), "bias": torch.zeros(3)})
with fabric.init_module():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
first = model[0].weight.sum().item()
optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
model, optimizer = fabric.setup(model, optimizer)
data = torch.utils.data.TensorDataset(torch.randn(32, 4), torch.randint(0, 2, (32,)))
loader = fabric.setup_dataloaders(torch.utils.data.DataLoader(data, batch_size=8))
losses = []
for x, y in loader:
    optimizer.zero_grad()
    with fabric.autocast():
        out = model(x)
    loss = nn.functional.cross_entropy(out.float(), y)
    fabric.backward(loss)
    fabric.clip_gradients(model, optimizer, max_norm=1.0)
    optimizer.step()
    fabric.log("loss", loss.item())
    losses.append(loss.item())
fabric.save("state.ckpt", {"model": model, "optimizer": optimizer, "step": 4})
restored = {"model": model, "optimizer": optimizer}
remainder = fabric.load("state.ckpt", restored)
fabric.loggers[0].finalize("success")
header = open(os.path.join(fabric.loggers[0].log_dir, "metrics.csv")).read().splitlines()[0]
print(json.dumps({"out_dtype": str(out.dtype), "first": first, "losses": losses, "remainder": remainder,
                  "header": header, "module": type(model).__name__, "skipped": skipped.weight.sum().item(),
                  "keys": sorted(torch.load("state.ckpt", weights_only=False))}))
"""


def test_fabric_program_prints_what_it_prints_on_torch(tmp_path):
    (tmp_path / "torch").mkdir()
    (tmp_path / "ember").mkdir()
    expected = run_lightning(PROGRAM, tmp_path / "torch")
    script = tmp_path / "ember" / "program.py"
    script.write_text(textwrap.dedent(PROGRAM))
    result = subprocess.run([sys.executable, "-m", "ember", "run", str(script)], cwd=tmp_path / "ember",
                            env={**os.environ, "PYTHONPATH": ROOT}, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    ours = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("out_dtype", "remainder", "header", "module", "skipped", "keys"):
        assert ours[key] == expected[key], key
    np.testing.assert_allclose(ours["first"], expected["first"], rtol=1e-5)
    np.testing.assert_allclose(ours["losses"], expected["losses"], rtol=2e-2, atol=1e-3)


def test_the_unified_packages_fabric_is_lightning_fabric(tmp_path):
    script = tmp_path / "program.py"
    script.write_text("import lightning.fabric, lightning_fabric, torch\n"
                      "from lightning.fabric import Fabric\n"
                      "print(lightning.fabric is lightning_fabric, Fabric is lightning_fabric.Fabric)\n")
    result = subprocess.run([sys.executable, "-m", "ember", "run", str(script)], cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": ROOT}, capture_output=True, text=True, timeout=300)
    assert result.stdout.split() == ["True", "True"], result.stderr[-3000:]
