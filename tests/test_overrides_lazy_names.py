"""A top-level function that loads on first use (``ember.gru_cell``), first reached after the dispatching wrappers
are installed, is seen by a TorchFunctionMode as PyTorch's ``torch.gru_cell`` is."""
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

PROGRAM = """
import sys
lib = __import__(sys.argv[1])
overrides = __import__(sys.argv[1] + ".overrides", fromlist=["TorchFunctionMode"])
seen = []


class Recorder(overrides.TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        seen.append(func.__name__)
        return func(*args, **(kwargs or {}))


with Recorder():   # entering a mode installs ember's wrappers before gru_cell is first loaded
    x, h, w_ih, w_hh = lib.ones(2, 3), lib.zeros(2, 4), lib.full((12, 3), 0.1), lib.full((12, 4), 0.2)
    out = lib.gru_cell(x, h, w_ih, w_hh)
print(seen, [round(v, 6) for v in out.sum(1).tolist()])
"""


def _run(lib):
    result = subprocess.run([sys.executable, "-c", PROGRAM, lib], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_function_loaded_on_first_use_dispatches_as_torchs():
    assert _run("ember") == _run("torch")
