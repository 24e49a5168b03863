"""``Tqdm``, the tqdm subclass Lightning's progress bar draws with, importable from Lightning's module path as
libraries do (darts' progress bar subclasses it): its base and number formatting as real Lightning 2.x has them."""
import json

import pytest

from .lightning_oracle import run_lightning

pytest.importorskip("tqdm")

PROGRAM = """
import json
result = {"base": [cls.__module__ + "." + cls.__name__ for cls in Tqdm.__mro__[1:2]],
          "same": Tqdm is tqdm_progress.Tqdm,
          "formatted": [Tqdm.format_num(n) for n in (0, 7, 12345, 0.5, 1.0, 1e-7, 123456.789, "3", "3.5", "abc", -2.0)]}
"""


def test_tqdm_class_matches_lightning(tmp_path):
    namespace = {}
    exec("from ember.lightning.callbacks.progress.tqdm_progress import Tqdm\n"
         "from ember.lightning.callbacks.progress import tqdm_progress\n" + PROGRAM, namespace)
    ours = json.loads(json.dumps(namespace["result"]))
    theirs = run_lightning("from pytorch_lightning.callbacks.progress.tqdm_progress import Tqdm\n"
                           "from pytorch_lightning.callbacks.progress import tqdm_progress\n"
                           + PROGRAM + "\nprint(json.dumps(result))", tmp_path)
    assert ours == theirs
    assert ours["base"] == ["tqdm.std.tqdm"] and ours["same"]
