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
