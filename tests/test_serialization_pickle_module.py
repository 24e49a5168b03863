"""``load(..., pickle_module=...)`` (a library's own restricting Unpickler, as darts uses) and
``serialization.get_unsafe_globals_in_checkpoint``, each beside PyTorch on files written by both."""
import fractions
import io
import pickle
import types
from collections import OrderedDict

import numpy
import pytest
import torch

import ember
from ember import serialization


def _recording_module(refused=()):
    """A pickle module whose Unpickler records every global it is asked for and refuses those in ``refused``."""
    seen = []

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            seen.append(f"{module}.{name}")
            if f"{module}.{name}" in refused:
                raise pickle.UnpicklingError(f"refused {module}.{name}")
            return super().find_class(module, name)

    return types.SimpleNamespace(Unpickler=Unpickler, __name__="recording"), seen


def _objects(lib):
    lib.manual_seed(0)
    layer = lib.nn.Linear(3, 2)
    return {"w": lib.arange(6.0).reshape(2, 3), "layer": layer, "state": OrderedDict(layer.state_dict()),
            "fraction": fractions.Fraction(1, 3), "ints": lib.tensor([1, 2], dtype=lib.int64)}


def _files():
    files = {}
    for name, lib in (("torch", torch), ("ember", ember)):
        buffer = io.BytesIO()
        lib.save(_objects(lib), buffer)
        files[name] = buffer.getvalue()
    return files


@pytest.mark.parametrize("writer", ["torch", "ember"])
def test_custom_unpickler_sees_the_globals_torch_shows_it(writer):
    data = _files()[writer]
    results = {}
    for name, lib in (("torch", torch), ("ember", ember)):
        module, seen = _recording_module()
        loaded = lib.load(io.BytesIO(data), pickle_module=module)   # weights_only defaults to False
        results[name] = loaded, sorted(set(seen))
    (theirs, their_seen), (ours, our_seen) = results["torch"], results["ember"]
    assert our_seen == their_seen and "torch.nn.modules.linear.Linear" in our_seen
    assert not any("Storage" in name for name in our_seen)   # storage types never reach the custom unpickler
    assert isinstance(ours["layer"], ember.nn.Linear) and ours["fraction"] == theirs["fraction"]
    for key in ("w", "ints"):
        assert ours[key].dtype.name == str(theirs[key].dtype).split(".")[1]
        numpy.testing.assert_array_equal(ours[key].numpy(), theirs[key].numpy())
    numpy.testing.assert_array_equal(ours["layer"].weight.detach().numpy(), theirs["layer"].weight.detach().numpy())
    numpy.testing.assert_array_equal(ours["state"]["bias"].numpy(), theirs["state"]["bias"].numpy())


def test_refusing_unpickler_and_weights_only_conflict_as_torch():
    data = _files()["ember"]
    for lib in (torch, ember):
        module, _ = _recording_module(refused={"fractions.Fraction"})
        with pytest.raises(pickle.UnpicklingError, match="refused fractions.Fraction"):
            lib.load(io.BytesIO(data), pickle_module=module)
        with pytest.raises(RuntimeError, match="Can not safely load weights when explicit pickle_module is specified"):
            lib.load(io.BytesIO(data), pickle_module=pickle, weights_only=True)
        assert lib.load(io.BytesIO(data), pickle_module=pickle)["fraction"] == fractions.Fraction(1, 3)


@pytest.mark.parametrize("writer", ["torch", "ember"])
def test_get_unsafe_globals_in_checkpoint_matches_torch(writer, tmp_path):
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(_files()[writer])
    ours = sorted(serialization.get_unsafe_globals_in_checkpoint(path))
    assert ours == sorted(torch.serialization.get_unsafe_globals_in_checkpoint(path))
    assert "fractions.Fraction" in ours and "torch.nn.modules.linear.Linear" in ours
    with open(path, "rb") as file:
        assert sorted(serialization.get_unsafe_globals_in_checkpoint(file)) == ours
    with ember.serialization.safe_globals([fractions.Fraction]), torch.serialization.safe_globals([fractions.Fraction]):
        assert sorted(serialization.get_unsafe_globals_in_checkpoint(path)) == sorted(
            torch.serialization.get_unsafe_globals_in_checkpoint(path))
        assert "fractions.Fraction" not in serialization.get_unsafe_globals_in_checkpoint(path)


def test_get_unsafe_globals_in_checkpoint_rejects_what_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "plain.pkl"
    path.write_bytes(pickle.dumps([1, 2]))
    for lib in (torch, ember):
        with pytest.raises(ValueError, match="Expected input to be a checkpoint returned by torch.save"):
            lib.serialization.get_unsafe_globals_in_checkpoint(path)
