"""``import ember`` loads the training stack (nn, optim, utils, distributed, multiprocessing, serialization) and the
special and signal namespaces on first use, yet programs see the same package: attributes, ``from ember import
...``, ``from ember import *``, ``dir`` and every Tensor method exist as if everything had loaded at once. Each
check runs in a fresh interpreter."""
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
LAZY = ["ember.nn", "ember.optim", "ember.utils", "ember.utils.data", "ember.distributed", "ember.multiprocessing",
        "ember.serialization", "ember.special", "ember.signal"]


def run(code, tmp_path=None):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_import_ember_leaves_the_training_stack_unloaded():
    loaded = run(f"import sys, json, ember; print(json.dumps([m for m in {LAZY!r} if m in sys.modules]))")
    assert loaded == []


def test_ember_imports_and_computes_without_its_optional_ml_dtypes():
    """``import ember`` neither needs nor loads ml_dtypes (bfloat16 and the float8 types load it on first use)."""
    code = """
import sys, json
loaded_before = "ml_dtypes" in sys.modules
import ember
loaded = "ml_dtypes" in sys.modules
sys.modules["ml_dtypes"] = None   # from here on, as if it were not installed
x = ember.ones(3)
print(json.dumps([loaded_before, loaded, (1.5 - x).tolist(), (x * 2.0 - 1).tolist()]))
"""
    assert run(code) == [False, False, [0.5] * 3, [1.0] * 3]


def test_tensor_methods_and_top_level_names_exist_before_the_stack_loads():
    code = """
import json, ember
before_tensor, before_dir = set(dir(ember.Tensor)), set(dir(ember))
import ember.nn, ember.optim, ember.utils.data, ember.distributed, ember.multiprocessing, ember.serialization
import ember.special, ember.signal
after_tensor = set(dir(ember.Tensor))
after_public = {n for n in vars(ember) if not n.startswith("_")}
print(json.dumps([sorted(after_tensor - before_tensor), sorted(after_public - before_dir)]))
"""
    new_methods, new_names = run(code)
    assert new_methods == [] and new_names == []


def test_programs_use_the_stack_as_attributes_and_from_imports(tmp_path):
    path = tmp_path / "model.pt"
    code = f"""
import json
import ember as torch
from ember import nn, optim, save, lstm_cell
model = torch.nn.Sequential(nn.Linear(3, 2), torch.nn.ReLU())
opt = optim.SGD(model.parameters(), lr=0.1)
model(torch.ones(4, 3)).sum().backward()
opt.step()
batches = list(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.arange(5.0)), batch_size=2))
save(model.state_dict(), {str(path)!r})
loaded = torch.load({str(path)!r})
h, c = lstm_cell(torch.ones(1, 2), (torch.zeros(1, 3), torch.zeros(1, 3)), torch.ones(12, 2), torch.ones(12, 3))
print(json.dumps([len(batches), sorted(loaded), list(h.shape), torch.lstm_cell is lstm_cell,
                  torch.nn.modules.rnn.lstm_cell is lstm_cell, hasattr(torch, "distributed"),
                  torch.serialization.load is torch.load, torch.special.bessel_j0(torch.zeros(1)).tolist(),
                  torch.signal.windows.hann(3).tolist()]))
"""
    assert run(code) == [3, ["0.bias", "0.weight"], [1, 3], True, True, True, True, [1.0], [0.0, 1.0, 0.0]]


def test_star_import_and_dir_include_what_loads_on_first_use():
    code = """
import json
from ember import *
names = set(globals())
import ember
print(json.dumps([sorted({"nn", "optim", "utils", "distributed", "multiprocessing", "serialization", "save", "load",
                          "gru_cell", "lstm_cell", "rnn_tanh_cell", "rnn_relu_cell", "Tensor", "tensor", "float32",
                          "no_grad", "autocast", "fft", "linalg"} - names),
                  nn.Linear.__name__, sorted({"nn", "optim", "utils", "save", "jit", "compile"} - set(dir(ember)))]))
"""
    assert run(code) == [[], "Linear", []]


def test_private_assert_as_pytorch():
    import pytest
    import torch

    import ember
    for library in (ember, torch):
        library._assert(True, "fine")
        with pytest.raises(AssertionError, match="bad shape"):
            library._assert(False, "bad shape")
