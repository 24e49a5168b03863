"""save's pickle_module: PyTorch's positional order, a pure-Python Pickler's own reductions kept (dill's kind), a C
Pickler (cloudpickle's kind) under the torch alias, and a clear refusal of one outside it; each file checked by
loading it with real PyTorch."""
import io
import pathlib
import pickle
import subprocess
import sys
import textwrap
import types
import zipfile

import numpy
import pytest
import torch

import ember


class Point:
    """A class the recording pickle module below reduces its own way."""

    def __init__(self, x, y):
        self.x, self.y = x, y


def _rebuild_point(x, y):
    return Point(x + 100, y)   # a visible mark that the module's own reduction ran


class RecordingPickler(pickle._Pickler):
    """A pure-Python Pickler with its own dispatch entry, as dill's is."""

    dispatch = dict(pickle._Pickler.dispatch)
    seen = []

    def save_point(self, obj):
        RecordingPickler.seen.append(obj)
        self.save_reduce(_rebuild_point, (obj.x, obj.y), obj=obj)

    dispatch[Point] = save_point


recording_pickle = types.ModuleType("recording_pickle")
recording_pickle.Pickler = RecordingPickler
recording_pickle.Unpickler = pickle.Unpickler
recording_pickle.dump = pickle.dump   # torch writes the pre-1.6 format's headers with it


def _state(lib):
    return {"w": lib.arange(6.0).reshape(2, 3), "point": Point(1, 2)}


@pytest.mark.parametrize("new_format", [True, False])
def test_pure_python_pickle_module_keeps_its_reductions_and_torch_loads_the_file(new_format):
    files = {}
    for lib in (torch, ember):
        RecordingPickler.seen.clear()
        buffer = io.BytesIO()
        lib.save(_state(lib), buffer, recording_pickle, 2, new_format)   # PyTorch's positional order
        assert len(RecordingPickler.seen) == 1
        files[lib] = buffer.getvalue()
    for lib, data in files.items():
        loaded = torch.load(io.BytesIO(data), weights_only=False)
        assert type(loaded["w"]) is torch.Tensor
        numpy.testing.assert_array_equal(loaded["w"].numpy(), numpy.arange(6.0).reshape(2, 3))
        assert (loaded["point"].x, loaded["point"].y) == (101, 2)
    back = ember.load(io.BytesIO(files[ember]), weights_only=False)
    assert type(back["w"]) is ember.Tensor and back["point"].x == 101


def test_plain_pickle_module_is_the_default_format():
    default, given = io.BytesIO(), io.BytesIO()
    ember.save({"w": ember.ones(3)}, default)
    ember.save({"w": ember.ones(3)}, given, pickle_module=pickle, pickle_protocol=2)
    records = [zipfile.ZipFile(buffer).read("archive/data.pkl") for buffer in (default, given)]
    assert records[0] == records[1]


def test_a_c_pickler_is_refused_naming_the_module():
    c_pickle = types.ModuleType("c_pickle")
    c_pickle.Pickler = type("CPickler", (pickle.Pickler,), {})   # on the C pickler, as cloudpickle's
    with pytest.raises(TypeError, match="c_pickle.*pure-Python.*install_torch_alias"):
        ember.save(ember.ones(2), io.BytesIO(), pickle_module=c_pickle)


_C_PICKLER_SAVE = """
    import pickle, sys, types
    import ember
    ember.install_torch_alias()
    import torch

    class CPickler(pickle.Pickler):   # on the C pickler, with a reduction of its own, as cloudpickle's
        def reducer_override(self, obj):
            if getattr(obj, "__name__", None) == "<lambda>":
                return eval, ("lambda x: x * 3",)
            return NotImplemented

    c_pickle = types.ModuleType("c_pickle")
    c_pickle.Pickler = CPickler
    model = torch.nn.Linear(3, 2)
    base = torch.arange(12.0)
    obj = {"model": model, "weight": model.weight, "view": base[2:8].view(2, 3).t(), "base": base,
           "half": torch.arange(6, dtype=torch.float16).reshape(2, 3), "ints": torch.arange(5)[::2],
           "fn": lambda x: x, "size": torch.Size([2, 3]), "dtype": torch.bfloat16}
    torch.save(obj, sys.argv[1], pickle_module=c_pickle)
    back = torch.load(sys.argv[1], weights_only=False)
    print(back["fn"](2), back["view"].tolist() == obj["view"].tolist(), back["model"].weight is back["weight"],
          back["half"].dtype, back["ints"].tolist(), back["view"].data_ptr() - back["base"].data_ptr())
"""


@pytest.mark.timeout(120)
def test_a_c_pickler_under_the_alias_keeps_its_reductions_and_torch_loads_the_file(tmp_path):
    path = tmp_path / "saved.pt"
    root = str(pathlib.Path(__file__).resolve().parent.parent)
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(_C_PICKLER_SAVE), str(path)], capture_output=True,
                            text=True, timeout=100, cwd=root)
    assert result.stdout.split() == ["6", "True", "True", "torch.float16", "[0,", "2,", "4]", "8"], result.stderr
    loaded = torch.load(path, weights_only=False)
    assert loaded["fn"](2) == 6 and loaded["model"].weight is loaded["weight"]
    numpy.testing.assert_array_equal(loaded["view"].numpy(), numpy.arange(12.0)[2:8].reshape(2, 3).T)
    assert loaded["view"].untyped_storage().data_ptr() == loaded["base"].untyped_storage().data_ptr()
    assert (loaded["half"].dtype, loaded["ints"].tolist(), loaded["size"], loaded["dtype"]) == (
        torch.float16, [0, 2, 4], torch.Size([2, 3]), torch.bfloat16)
