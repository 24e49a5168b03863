"""jit.save / jit.load: round trips without the model class, fine-tuning after loading, tampered archives."""
import io
import json
import os
import pickle
import subprocess
import sys
import zipfile

import numpy
import pytest
import torch

import ember
import ember.jit as jit
import ember.nn as nn
import ember.nn.functional as F
from tests.jit.models import cnn, mlp, pair


def _round_trip(module):
    buffer = io.BytesIO()
    jit.save(module, buffer)
    buffer.seek(0)
    return jit.load(buffer)


def test_loaded_cnn_matches_eager_and_torch_outputs():
    ember_model, torch_model = pair(cnn)
    loaded = _round_trip(jit.trace(ember_model, ember.randn(2, 1, 12, 12)))
    x = numpy.random.randn(3, 1, 12, 12).astype(numpy.float32)
    got = loaded(ember.from_numpy(x)).detach().numpy()
    numpy.testing.assert_array_equal(got, ember_model(ember.from_numpy(x)).detach().numpy())
    numpy.testing.assert_allclose(got, torch_model(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-5)
    assert str(loaded.graph) == str(jit.trace(ember_model, ember.randn(2, 1, 12, 12)).graph)
    assert list(loaded.state_dict()) == list(ember_model.state_dict())
    assert "original_name=Net" in repr(loaded)


def test_save_method_and_path(tmp_path):
    traced = jit.trace(mlp(nn), ember.randn(2, 12))
    traced.save(tmp_path / "model.pt")
    loaded = jit.load(os.fspath(tmp_path / "model.pt"))
    x = ember.randn(4, 12)
    numpy.testing.assert_array_equal(loaded(x).detach().numpy(), traced(x).detach().numpy())
    with zipfile.ZipFile(tmp_path / "model.pt") as archive:   # PyTorch's checkpoint layout
        assert any(name.endswith("data.pkl") for name in archive.namelist())
        assert any("/data/" in name for name in archive.namelist())


def test_loaded_module_fine_tunes():
    model = mlp(nn)
    loaded = _round_trip(jit.trace(model, ember.randn(2, 12)))
    optimizer = ember.optim.SGD(loaded.parameters(), lr=0.1)
    x, target = ember.randn(16, 12), ember.randn(16, 4)
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        loss = F.mse_loss(loaded(x), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    again = _round_trip(loaded)   # a loaded module saves again, with its new weights
    numpy.testing.assert_array_equal(again(x).detach().numpy(), loaded(x).detach().numpy())


def test_extra_files_round_trip():
    buffer = io.BytesIO()
    jit.save(jit.trace(mlp(nn), ember.randn(2, 12)), buffer, _extra_files={"meta.txt": b"hello"})
    buffer.seek(0)
    extra = {"meta.txt": ""}
    jit.load(buffer, _extra_files=extra)
    assert extra["meta.txt"] == b"hello"


def test_load_in_a_process_without_the_model_class(tmp_path):
    path = tmp_path / "cnn.pt"
    model = cnn(nn).eval()
    jit.trace(model, ember.randn(2, 1, 12, 12)).save(path)
    x = numpy.random.randn(2, 1, 12, 12).astype(numpy.float32)
    numpy.save(tmp_path / "x.npy", x)
    script = ("import sys, numpy, ember\nm = ember.jit.load(sys.argv[1])\n"
              "print(repr(m(ember.from_numpy(numpy.load(sys.argv[2]))).detach().numpy().tolist()))")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    result = subprocess.run([sys.executable, "-c", script, str(path), str(tmp_path / "x.npy")], capture_output=True,
                            text=True, timeout=120, env={**os.environ, "PYTHONPATH": root}, check=True)
    numpy.testing.assert_array_equal(numpy.array(eval(result.stdout), dtype=numpy.float32),
                                     model(ember.from_numpy(x)).detach().numpy())


# --- tampered archives ----------------------------------------------------------------------------------------
def _tampered(edit):
    """A saved MLP whose program JSON ``edit`` rewrote."""
    buffer = io.BytesIO()
    jit.save(jit.trace(mlp(nn), ember.randn(2, 12)), buffer)
    buffer.seek(0)
    archive = ember.load(buffer)
    program = json.loads(archive["program"])
    edit(program, archive)
    archive["program"] = json.dumps(program)
    out = io.BytesIO()
    ember.save(archive, out)
    out.seek(0)
    return out


def _first(program, kind):
    return next(n for n in program["methods"]["forward"]["nodes"] if n["kind"] == kind)


def test_unknown_op_fails_naming_it():
    def edit(program, archive):
        _first(program, "ember::Linear")["kind"] = "ember::os_system"
    with pytest.raises(RuntimeError, match="Unknown builtin op: ember::os_system"):
        jit.load(_tampered(edit))


def test_wrong_shapes_fail_naming_the_tensor():
    def edit(program, archive):
        archive["tensors"]["0.weight"] = ember.zeros(3, 3)
    with pytest.raises(RuntimeError, match=r"'0.weight' has shape \[3, 3\]"):
        jit.load(_tampered(edit))


def test_attribute_paths_reach_only_parameters_and_buffers():
    def edit(program, archive):
        _first(program, "prim::GetAttr")["value"] = "__class__.__init__"
    with pytest.raises(RuntimeError, match="reads '__class__.__init__', which the module does not have"):
        jit.load(_tampered(edit))


def test_undefined_values_fail_cleanly():
    def edit(program, archive):
        _first(program, "ember::Linear")["inputs"][0] = "nowhere"
    with pytest.raises(RuntimeError, match="undefined value %nowhere"):
        jit.load(_tampered(edit))


class _Payload:
    def __reduce__(self):
        return (os.system, ("echo pwned > pwned.txt",))


def test_malicious_pickle_is_refused_without_running(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"program": "{}", "x": _Payload()}, protocol=2))
        archive.writestr("archive/version", "3\n")
    buffer.seek(0)
    with pytest.raises(RuntimeError, match="not a loadable archive"):
        jit.load(buffer)
    assert not (tmp_path / "pwned.txt").exists()


def test_path_traversal_entries_are_never_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "work").mkdir()
    buffer = io.BytesIO()
    jit.save(jit.trace(mlp(nn), ember.randn(2, 12)), buffer)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("../escaped.txt", "x")
    buffer.seek(0)
    monkeypatch.chdir(tmp_path / "work")
    loaded = jit.load(buffer)   # the stray entry is ignored: nothing is extracted
    assert loaded(ember.randn(1, 12)).shape == (1, 4)
    assert not (tmp_path / "escaped.txt").exists()


def test_not_a_program():
    buffer = io.BytesIO()
    ember.save({"weights": ember.ones(2)}, buffer)
    buffer.seek(0)
    with pytest.raises(RuntimeError, match="holds no ember.jit program"):
        jit.load(buffer)


def scaled_sum(x, y):
    return x * 2 + y.relu()


def test_saved_functions_load_as_modules_as_in_torch():
    x, y = numpy.random.randn(2, 3).astype(numpy.float32), numpy.random.randn(2, 3).astype(numpy.float32)
    example = (ember.from_numpy(x), ember.from_numpy(y))
    expected = scaled_sum(torch.from_numpy(x), torch.from_numpy(y)).numpy()
    for function in (jit.trace(scaled_sum, example), jit.script(scaled_sum)):
        loaded = _round_trip(function)
        assert isinstance(loaded, jit.ScriptModule)
        numpy.testing.assert_allclose(loaded(*example).numpy(), expected, rtol=1e-6)
