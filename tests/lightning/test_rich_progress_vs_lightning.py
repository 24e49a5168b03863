"""RichProgressBar without rich installed (as in the test environment): the error when one is made, its theme's
defaults and its module paths, as real Lightning 2.x has them; ember.lightning itself never imports rich."""
import importlib.util
import json
import subprocess
import sys

import pytest

from .lightning_oracle import run_lightning

PROGRAM = """
import dataclasses, json, sys
result = {}
try:
    RichProgressBar()
    result["error"] = None
except Exception as error:
    result["error"] = [type(error).__name__, str(error)]
result["theme"] = dataclasses.asdict(progress.rich_progress.RichProgressBarTheme())
result["same_class"] = progress.RichProgressBar is RichProgressBar is progress.rich_progress.RichProgressBar
result["tqdm_module"] = progress.tqdm_progress.TQDMProgressBar is progress.TQDMProgressBar
result["base"] = [cls.__name__ for cls in RichProgressBar.__mro__[1:3]]
result["defaults"] = {"refresh_rate": 100, "leave": False}
"""


@pytest.mark.skipif(importlib.util.find_spec("rich") is not None, reason="rich is installed here")
def test_rich_progress_bar_without_rich_matches_lightning(tmp_path):
    namespace = {}
    exec("from ember.lightning.callbacks import RichProgressBar\nfrom ember.lightning.callbacks import progress\n"
         + PROGRAM, namespace)
    ours = json.loads(json.dumps(namespace["result"]))
    theirs = run_lightning("from pytorch_lightning.callbacks import RichProgressBar\n"
                           "from pytorch_lightning.callbacks import progress\n"
                           "import pytorch_lightning.callbacks.progress.rich_progress\n"
                           "import pytorch_lightning.callbacks.progress.tqdm_progress\n"
                           + PROGRAM + "\nprint(json.dumps(result))", tmp_path)
    assert ours == theirs


def test_lightning_does_not_import_rich_and_its_module_paths_resolve_under_the_alias():
    code = ("import ember, sys\nember.install_torch_alias()\nimport pytorch_lightning\n"
            "import pytorch_lightning.callbacks.progress.rich_progress as rich_progress\n"
            "from lightning.pytorch.callbacks.progress.tqdm_progress import TQDMProgressBar\n"
            "from lightning.pytorch.callbacks import RichProgressBar\n"
            "print(rich_progress.RichProgressBar is RichProgressBar, 'rich' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False"]


RESULTS = """
import io, json
from contextlib import redirect_stdout
import rich
rich.reconfigure(width=100, force_terminal=False)
x = torch.arange(8.0).reshape(4, 2)


class Model(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)

    def test_step(self, batch, batch_idx, dataloader_idx=0):
        self.log("test_loss", float(dataloader_idx) + 0.5)
        self.log("a_much_longer_metric_name", 2.0)


loaders = [DataLoader(TensorDataset(x), batch_size=2), DataLoader(TensorDataset(x), batch_size=4)]
trainer = pl.Trainer(logger=False, enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False,
                     accelerator="cpu", devices=1)
output = io.StringIO()
with redirect_stdout(output):
    rich.reconfigure(file=output, width=100)
    trainer.test(Model(), loaders)
result = {"table": output.getvalue()}
"""


@pytest.mark.skipif(importlib.util.find_spec("rich") is None, reason="rich is not installed here")
def test_results_table_is_drawn_by_rich_where_it_is_installed(tmp_path):
    namespace = {}
    exec("import ember as torch\nimport ember.lightning as pl\n"
         "from ember.utils.data import DataLoader, TensorDataset\n" + RESULTS, namespace)
    theirs = run_lightning("import torch\nimport pytorch_lightning as pl\n"
                           "from torch.utils.data import DataLoader, TensorDataset\n" + RESULTS
                           + "\nprint(json.dumps(result))", tmp_path)
    assert namespace["result"]["table"] == theirs["table"]
