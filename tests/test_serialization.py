"""ember.save / ember.load: round trips, files exchanged with torch in both directions, the weights_only guard,
map_location, atomic writes and errors for damaged files."""
import copy
import io
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import zipfile
from collections import OrderedDict

import numpy
import pytest
import torch

import ember
from ember import serialization
from ember._tensor import _make
from tests.oracle import as_numpy

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64",
          "complex64", "complex128"]


def _values(name, shape=(3, 4)):
    """Deterministic sample values of dtype ``name`` as a NumPy array (bfloat16 via float32)."""
    rng = numpy.random.default_rng(0)
    raw = rng.standard_normal(shape) * 10
    if name == "bool":
        return raw > 0
    if name.startswith("complex"):
        return (raw + 1j * rng.standard_normal(shape)).astype(name)
    return raw.astype("float32" if name == "bfloat16" else name)


def _ember_tensor(name, shape=(3, 4)):
    return ember.tensor(_values(name, shape)).to(getattr(ember, name))


def _torch_tensor(name, shape=(3, 4)):
    return torch.tensor(_values(name, shape)).to(getattr(torch, name))


def _assert_same_tensor(e, t):
    """An ember tensor and a torch tensor agree in values, dtype, shape, strides and requires_grad."""
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(e.shape) == tuple(t.shape)
    assert e.stride() == t.stride()
    assert e.requires_grad == t.requires_grad
    numpy.testing.assert_array_equal(as_numpy(e), as_numpy(t))


def _roundtrip(obj, **load_args):
    buffer = io.BytesIO()
    ember.save(obj, buffer)
    buffer.seek(0)
    return ember.load(buffer, **load_args)


def _ember_to_torch(obj, tmp_path):
    path = tmp_path / "from_ember.pt"
    ember.save(obj, path)
    return torch.load(path)  # torch's default weights_only=True: our file holds nothing but allowed globals


def _torch_to_ember(obj, tmp_path, **load_args):
    path = tmp_path / "from_torch.pt"
    torch.save(obj, path)
    return ember.load(path, **load_args)


# --- round trips ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", DTYPES)
def test_every_dtype_round_trips(name):
    for shape in [(3, 4), (), (0, 2)]:
        tensor = _ember_tensor(name, shape)
        loaded = _roundtrip(tensor)
        assert type(loaded) is ember.Tensor and loaded.dtype is tensor.dtype and loaded.shape == tensor.shape
        numpy.testing.assert_array_equal(as_numpy(loaded), as_numpy(tensor))


def test_module_constants_match_torch():
    # MONAI's StateCacher imports DEFAULT_PROTOCOL from torch.serialization to pickle with it
    for name in ("DEFAULT_PROTOCOL", "MAGIC_NUMBER", "PROTOCOL_VERSION", "LONG_SIZE", "INT_SIZE", "SHORT_SIZE",
                 "STORAGE_KEY_SEPARATOR"):
        assert getattr(serialization, name) == getattr(torch.serialization, name), name
    buffer = io.BytesIO()
    ember.save({"w": ember.ones(2)}, buffer, pickle_protocol=serialization.DEFAULT_PROTOCOL)
    buffer.seek(0)
    assert torch.load(buffer)["w"].tolist() == [1.0, 1.0]


def test_structures_round_trip():
    state = OrderedDict([("weight", ember.ones(2, 3)), ("bias", ember.zeros(2))])
    state._metadata = OrderedDict([("", {"version": 1})])
    obj = {"state": state, "list": [1, 2.5, "three", None, True], "tuple": (ember.arange(3), (4, b"bytes", b"")),
           "size": ember.Size([2, 3]), "dtype": ember.bfloat16, "bool_dtype": ember.bool, "device": ember.device("cpu"),
           "complex": 1 + 2j, "set": {1, 2}, "frozenset": frozenset({3}), "nested": {"a": {"b": [ember.tensor(1.5)]}}}
    loaded = _roundtrip(obj)
    assert list(loaded["state"]) == ["weight", "bias"] and loaded["state"]._metadata == state._metadata
    assert isinstance(loaded["state"], OrderedDict)
    assert loaded["list"] == obj["list"] and loaded["tuple"][1] == (4, b"bytes", b"")
    assert type(loaded["size"]) is ember.Size and loaded["size"] == (2, 3)
    assert loaded["dtype"] is ember.bfloat16 and loaded["bool_dtype"] is ember.bool
    assert loaded["device"] == ember.device("cpu")
    assert loaded["complex"] == 1 + 2j and loaded["set"] == {1, 2} and loaded["frozenset"] == frozenset({3})
    assert loaded["nested"]["a"]["b"][0].item() == 1.5


def test_singleton_types_pickle_as_pythons(tmp_path):
    """``type(None)``, ``type(NotImplemented)`` and ``type(...)`` inside a saved object (PyTorch Geometric's
    layers keep parameter annotations such as ``Optional[Tensor]`` and NoneType) pickle as Python's pickler writes
    them, and torch loads them; other classes still go under torch's names."""
    obj = {"types": [type(None), type(NotImplemented), type(...)], "linear": ember.nn.Linear, "t": ember.ones(2)}
    path = tmp_path / "types.pt"
    ember.save(obj, path)
    for loaded in (ember.load(path, weights_only=False), torch.load(path, weights_only=False)):
        assert loaded["types"] == [type(None), type(NotImplemented), type(...)]
    assert torch.load(path, weights_only=False)["linear"] is torch.nn.Linear


def test_views_share_storage_after_load():
    base = ember.arange(12.0).reshape(3, 4)
    obj = {"base": base, "rows": base[1:], "strided": base[:, ::2], "transposed": base.t(), "again": base}
    loaded = _roundtrip(obj)
    assert loaded["again"] is loaded["base"]
    assert loaded["strided"].stride() == (4, 2) and loaded["transposed"].stride() == (1, 4)
    loaded["base"].mul_(-1)  # writing the base shows through every view that shares its storage
    for key in ["rows", "strided", "transposed"]:
        numpy.testing.assert_array_equal(as_numpy(loaded[key]), -as_numpy(obj[key]))


def test_parameters_and_requires_grad_round_trip():
    parameter = ember.nn.Parameter(ember.randn(2, 3))
    frozen = ember.nn.Parameter(ember.randn(2), requires_grad=False)
    leaf = ember.randn(3).requires_grad_()
    loaded = _roundtrip([parameter, frozen, leaf, leaf * 2])
    assert type(loaded[0]) is ember.nn.Parameter and loaded[0].requires_grad
    assert type(loaded[1]) is ember.nn.Parameter and not loaded[1].requires_grad
    assert type(loaded[2]) is ember.Tensor and loaded[2].requires_grad and loaded[2].is_leaf
    assert loaded[3].requires_grad and loaded[3].is_leaf
    numpy.testing.assert_array_equal(as_numpy(loaded[0]), as_numpy(parameter))


def test_layouts_torch_cannot_express_are_saved_as_copies(tmp_path):
    # Ops may hand back NumPy views with negative strides; torch has no such layout.
    reversed_rows = _make(numpy.arange(6.0).reshape(2, 3)[::-1])
    expanded = ember.ones(3).expand(2, 3)
    loaded = _ember_to_torch([reversed_rows, expanded], tmp_path)
    numpy.testing.assert_array_equal(loaded[0].numpy(), numpy.arange(6.0).reshape(2, 3)[::-1])
    assert loaded[1].stride() == (0, 1) and loaded[1].tolist() == [[1.0] * 3] * 2


def test_whole_module_needs_weights_only_false():
    model = ember.nn.Sequential(ember.nn.Linear(3, 2), ember.nn.ReLU())
    buffer = io.BytesIO()
    ember.save(model, buffer)
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="torch.nn.modules.container.Sequential"):
        ember.load(buffer)
    buffer.seek(0)
    loaded = ember.load(buffer, weights_only=False)
    assert type(loaded) is ember.nn.Sequential and type(loaded[0].weight) is ember.nn.Parameter
    x = ember.randn(4, 3)
    numpy.testing.assert_allclose(as_numpy(loaded(x)), as_numpy(model(x)))


@pytest.mark.parametrize("name", ["add", "addmm", "Tensor.add", "Tensor.add_", "Tensor.sub_", "Tensor.addcmul_",
                                  "Tensor.relu_", "Tensor.mul_"])
@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_plain_pickle_finds_functions_and_in_place_methods_by_reference(name, protocol):
    # torch's pickle by reference; ember's in-place methods are made by a factory, some functions are wrappers
    for lib in (torch, ember):
        function = lib
        for part in name.split("."):
            function = getattr(function, part)
        assert pickle.loads(pickle.dumps(function, protocol=protocol)) is function


def test_plain_pickle_and_copy_keep_tensor_types():
    tensor = ember.randn(2, 3).requires_grad_()
    parameter = ember.nn.Parameter(ember.randn(3))
    for clone in [pickle.loads(pickle.dumps([tensor, parameter])), copy.deepcopy([tensor, parameter])]:
        assert type(clone[0]) is ember.Tensor and clone[0].requires_grad
        assert type(clone[1]) is ember.nn.Parameter and clone[1].requires_grad
        numpy.testing.assert_array_equal(as_numpy(clone[0]), as_numpy(tensor))


# --- ember -> torch -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", DTYPES)
def test_torch_reads_every_dtype(name, tmp_path):
    tensor = _ember_tensor(name)
    loaded = _ember_to_torch({"t": tensor, "slice": tensor[1:, 1:]}, tmp_path)
    _assert_same_tensor(tensor, loaded["t"])
    _assert_same_tensor(tensor[1:, 1:], loaded["slice"])
    assert loaded["slice"].storage_offset() == 5


def test_torch_reads_shared_storage_parameters_and_metadata(tmp_path):
    base = ember.arange(12.0).reshape(3, 4).requires_grad_()
    parameter = ember.nn.Parameter(ember.randn(2, 2))
    loaded = _ember_to_torch({"base": base, "view": base.detach()[1:, ::2], "param": parameter,
                              "size": ember.Size([1, 2]), "dtype": ember.float16, "device": ember.device("cpu")},
                             tmp_path)
    _assert_same_tensor(base, loaded["base"])
    assert loaded["view"].untyped_storage().data_ptr() == loaded["base"].untyped_storage().data_ptr()
    assert loaded["view"].storage_offset() == 4 and loaded["view"].stride() == (4, 2)
    assert type(loaded["param"]) is torch.nn.Parameter and loaded["param"].requires_grad
    assert loaded["size"] == torch.Size([1, 2]) and type(loaded["size"]) is torch.Size
    assert loaded["dtype"] is torch.float16 and loaded["device"] == torch.device("cpu")


def test_records_are_aligned_like_torch(tmp_path):
    path = tmp_path / "model.pt"
    ember.save({"a": ember.ones(3), "b": ember.zeros(5, dtype=ember.int64)}, path)
    raw = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        for info in archive.infolist():
            name_length, extra_length = numpy.frombuffer(raw[info.header_offset + 26:info.header_offset + 30],
                                                         numpy.uint16)
            assert (info.header_offset + 30 + name_length + extra_length) % 64 == 0, info.filename
            assert info.compress_type == zipfile.ZIP_STORED
        assert archive.read("model/version") == b"3\n" and archive.read("model/byteorder") == b"little"
    assert names[0] == "model/data.pkl" and "model/.data/serialization_id" in names
    assert {"model/data/0", "model/data/1"} <= set(names)
    mapped = torch.load(path, mmap=True)  # torch memory-maps our file, relying on the alignment
    assert mapped["b"].tolist() == [0] * 5


def _ember_model():
    return ember.nn.Sequential(ember.nn.Conv2d(2, 3, 3), ember.nn.BatchNorm2d(3), ember.nn.Flatten(),
                               ember.nn.Linear(12, 2))


def _torch_model():
    return torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3), torch.nn.Flatten(),
                               torch.nn.Linear(12, 2))


def test_state_dict_from_ember_loads_into_torch_model(tmp_path):
    model = _ember_model()
    model(ember.randn(4, 2, 4, 4))  # updates the batch-norm running statistics
    model.eval()
    target = _torch_model()
    target.load_state_dict(_ember_to_torch(model.state_dict(), tmp_path))
    target.eval()
    x = numpy.random.randn(2, 2, 4, 4).astype(numpy.float32)
    numpy.testing.assert_allclose(target(torch.tensor(x)).detach().numpy(), as_numpy(model(ember.tensor(x))),
                                  rtol=1e-5, atol=1e-5)
    assert target[1].num_batches_tracked.item() == 1


class _Activations:
    """Functions a model keeps as attributes (TransformerEncoderLayer keeps F.relu or F.gelu)."""

    def __init__(self, lib):
        self.functions = [lib.nn.functional.relu, lib.nn.functional.gelu, lib.nn.functional.softplus,
                          lib.nn.functional.logsigmoid, lib.tanh, lib.special.expit, lib.linalg.vector_norm,
                          lib.nn.init.normal_]


def _whole_model(lib):
    nn = lib.nn
    conv = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.InstanceNorm2d(3, affine=True),
                         nn.ChannelShuffle(3), nn.ReLU())
    return nn.ModuleDict({"conv": conv, "attention": nn.MultiheadAttention(4, 2),
                          "layer": nn.TransformerEncoderLayer(4, 2, 8, activation="gelu")})


def _run_whole_model(model, lib, images, tokens):
    model.eval()
    return [model["conv"](lib.tensor(images)), model["attention"](*[lib.tensor(tokens)] * 3)[0],
            model["layer"](lib.tensor(tokens))]


def test_whole_model_from_ember_loads_into_torch(tmp_path):
    # Classes and functions are pickled under torch's names, so torch builds its own modules from the file.
    model, images, tokens = _whole_model(ember), numpy.random.randn(2, 2, 5, 5), numpy.random.randn(3, 2, 4)
    model.extra = _Activations(ember)
    images, tokens = images.astype(numpy.float32), tokens.astype(numpy.float32)
    path = tmp_path / "model.pt"
    ember.save(model, path)
    loaded = torch.load(path, weights_only=False)
    assert all(type(m).__module__.startswith("torch.") for m in loaded.modules())
    assert [type(m).__module__ for m in loaded["conv"]][1:4] == ["torch.nn.modules.batchnorm",
                                                                 "torch.nn.modules.instancenorm",
                                                                 "torch.nn.modules.channelshuffle"]
    assert loaded.extra.functions[:5] == [torch.nn.functional.relu, torch.nn.functional.gelu,
                                          torch.nn.functional.softplus, torch.nn.functional.logsigmoid, torch.tanh]
    assert loaded.extra.functions[6:] == [torch.linalg.vector_norm, torch.nn.init.normal_]
    outputs = zip(_run_whole_model(loaded, torch, images, tokens), _run_whole_model(model, ember, images, tokens))
    for got, want in outputs:
        numpy.testing.assert_allclose(got.detach().numpy(), as_numpy(want), rtol=1e-5, atol=1e-5)


def test_whole_model_from_torch_loads_into_ember(tmp_path):
    # torch names builtin functions by its C namespaces (torch._C._nn.gelu, torch._C._VariableFunctionsClass.tanh).
    model, images, tokens = _whole_model(torch), numpy.random.randn(2, 2, 5, 5), numpy.random.randn(3, 2, 4)
    model.extra = _Activations(torch)
    images, tokens = images.astype(numpy.float32), tokens.astype(numpy.float32)
    loaded = _torch_to_ember(model, tmp_path, weights_only=False)
    assert all(type(m).__module__.startswith("ember.") for m in loaded.modules())
    F = ember.nn.functional
    assert loaded.extra.functions == [F.relu, F.gelu, F.softplus, F.logsigmoid, ember.tanh, ember.special.expit,
                                      ember.linalg.vector_norm, ember.nn.init.normal_]
    outputs = zip(_run_whole_model(loaded, ember, images, tokens), _run_whole_model(model, torch, images, tokens))
    for got, want in outputs:
        numpy.testing.assert_allclose(as_numpy(got), want.detach().numpy(), rtol=1e-5, atol=1e-5)


def _recurrent_and_padded(lib):
    lib.manual_seed(0)
    return lib.nn.ModuleDict({"lstm": lib.nn.LSTM(3, 4, 2), "gru": lib.nn.GRU(3, 4, bidirectional=True),
                              "rnn": lib.nn.RNN(3, 4, nonlinearity="relu", bias=False),
                              "reflect": lib.nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
                              "same": lib.nn.Conv1d(2, 3, 4, padding="same", padding_mode="circular")})


def _run_recurrent_and_padded(model, lib, sequence, images):
    sequence, images = lib.tensor(sequence), lib.tensor(images)
    return [model["lstm"](sequence)[0], model["gru"](sequence)[1], model["rnn"](sequence)[0],
            model["reflect"](images), model["same"](images[:, :, 0])]


@pytest.mark.parametrize("source", ["ember", "torch"])
def test_whole_recurrent_and_padded_conv_modules_cross_over(source, tmp_path):
    # torch's RNNs read the list _flat_weights from their pickled state, its convolutions
    # _reversed_padding_repeated_twice; ember's state carries both, and drops the former when it loads torch's
    libs = (ember, torch) if source == "ember" else (torch, ember)
    model = _recurrent_and_padded(libs[0])
    sequence, images = numpy.random.randn(5, 2, 3).astype(numpy.float32), numpy.random.randn(2, 2, 6, 6)
    libs[0].save(model, tmp_path / "model.pt")
    loaded = libs[1].load(tmp_path / "model.pt", weights_only=False)
    loaded["lstm"].flatten_parameters()
    images = images.astype(numpy.float32)
    for got, want in zip(_run_recurrent_and_padded(loaded, libs[1], sequence, images),
                         _run_recurrent_and_padded(model, libs[0], sequence, images)):
        numpy.testing.assert_allclose(as_numpy(got.detach()), as_numpy(want.detach()), rtol=1e-5, atol=1e-6)
    if source == "torch":
        assert "_flat_weights" not in vars(loaded["lstm"]) and len(loaded["lstm"]._flat_weights) == 8
        clone = copy.deepcopy(loaded["lstm"])
        assert clone._flat_weights[0] is clone.weight_ih_l0
        assert clone.weight_ih_l0 is not loaded["lstm"].weight_ih_l0


def test_classes_live_in_torchs_files():
    # Pickles name a class by its module: each nn class and optimizer says the file PyTorch's says.
    for namespace in ("nn", "optim"):
        for name in dir(getattr(torch, namespace)):
            theirs, ours = getattr(getattr(torch, namespace), name), getattr(getattr(ember, namespace), name, None)
            if isinstance(theirs, type) and isinstance(ours, type) and theirs.__module__.startswith("torch."):
                assert ours.__module__ == "ember" + theirs.__module__[len("torch"):], name


def test_state_dict_from_torch_loads_into_ember_model(tmp_path):
    model = _torch_model()
    model(torch.randn(4, 2, 4, 4))
    model.eval()
    state = _torch_to_ember(model.state_dict(), tmp_path)
    assert isinstance(state, OrderedDict) and state._metadata == model.state_dict()._metadata
    target = _ember_model()
    target.load_state_dict(state)
    target.eval()
    x = numpy.random.randn(2, 2, 4, 4).astype(numpy.float32)
    numpy.testing.assert_allclose(as_numpy(target(ember.tensor(x))), model(torch.tensor(x)).detach().numpy(),
                                  rtol=1e-5, atol=1e-5)


def _step(optimizer, params, lib):
    for p in params:
        p.grad = lib.ones_like(p)
    optimizer.step()


def test_optimizer_state_moves_both_ways(tmp_path):
    e_params = [ember.nn.Parameter(ember.randn(3, 2)), ember.nn.Parameter(ember.randn(2))]
    e_opt = ember.optim.Adam(e_params, lr=0.1)
    _step(e_opt, e_params, ember)
    t_params = [torch.nn.Parameter(torch.tensor(as_numpy(p))) for p in e_params]
    t_opt = torch.optim.Adam(t_params, lr=0.5)
    t_opt.load_state_dict(_ember_to_torch(e_opt.state_dict(), tmp_path))
    assert t_opt.param_groups[0]["lr"] == 0.1
    _step(t_opt, t_params, torch)
    _step(e_opt, e_params, ember)
    for e, t in zip(e_params, t_params):
        numpy.testing.assert_allclose(as_numpy(e), t.detach().numpy(), rtol=1e-6)
    back = ember.optim.Adam(e_params, lr=0.5)
    back.load_state_dict(_torch_to_ember(t_opt.state_dict(), tmp_path))
    assert back.param_groups[0]["lr"] == 0.1
    assert back.state[e_params[0]]["exp_avg"].shape == (3, 2)


# --- torch -> ember -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", DTYPES)
def test_ember_reads_every_dtype_from_torch(name, tmp_path):
    tensor = _torch_tensor(name)
    loaded = _torch_to_ember({"t": tensor, "t_view": tensor.t()[1:], "scalar": tensor[0, 0]}, tmp_path)
    _assert_same_tensor(loaded["t"], tensor)
    _assert_same_tensor(loaded["t_view"], tensor.t()[1:])
    _assert_same_tensor(loaded["scalar"], tensor[0, 0])


def test_ember_reads_torch_checkpoint(tmp_path):
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    _step(optimizer, list(model.parameters()), torch)
    base = torch.arange(6.0)
    checkpoint = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 7,
                  "param": model.weight, "views": [base, base[2:]], "size": torch.Size([3]), "dtype": torch.int8,
                  "device": torch.device("cpu")}
    loaded = _torch_to_ember(checkpoint, tmp_path)
    assert loaded["epoch"] == 7 and list(loaded["model"]) == ["weight", "bias"]
    assert type(loaded["param"]) is ember.nn.Parameter and loaded["param"].requires_grad
    _assert_same_tensor(loaded["param"], model.weight)
    assert loaded["optimizer"]["param_groups"][0]["momentum"] == 0.9
    _assert_same_tensor(loaded["optimizer"]["state"][0]["momentum_buffer"], optimizer.state[model.weight]["momentum_buffer"])
    loaded["views"][0].add_(1)
    assert loaded["views"][1].tolist() == [3.0, 4.0, 5.0, 6.0]
    assert loaded["size"] == ember.Size([3]) and loaded["dtype"] is ember.int8
    assert loaded["device"] == ember.device("cpu")


def test_ember_reads_torch_legacy_format(tmp_path):
    path = tmp_path / "legacy.pt"
    base = torch.arange(6.0)
    torch.save({"base": base, "view": base[1:4], "ints": torch.tensor([1, 2])}, path,
               _use_new_zipfile_serialization=False)
    loaded = ember.load(path)
    assert loaded["view"].tolist() == [1.0, 2.0, 3.0] and loaded["ints"].dtype is ember.int64
    assert ember.load(path, map_location=ember.device("cpu"))["ints"].tolist() == [1, 2]
    loaded["base"].zero_()
    assert loaded["view"].tolist() == [0.0, 0.0, 0.0]


def test_legacy_format_written_as_torch_writes_it(tmp_path):
    """save(_use_new_zipfile_serialization=False) writes the pre-1.6 format (pytorch-ignite's DiskSaver passes it
    through): torch reads it with views still sharing storage; _disable_byteorder_record places the record last."""
    def state(lib):
        base = lib.arange(12.0).reshape(3, 4)
        return {"base": base, "view": base[1:, ::2], "ints": lib.arange(5), "flags": lib.tensor([True, False]),
                "half": lib.ones(3, dtype=lib.float16), "param": lib.nn.Parameter(lib.ones(2)), "empty": lib.zeros(0),
                "other": [1, "x"]}
    files = {}
    for lib in (ember, torch):
        files[lib] = tmp_path / f"{lib.__name__}.pt"
        lib.save(state(lib), files[lib], _use_new_zipfile_serialization=False)
        assert not zipfile.is_zipfile(files[lib])
    for path in files.values():
        ours, theirs = ember.load(path), torch.load(path)
        assert {k: v.tolist() if hasattr(v, "tolist") else v for k, v in ours.items()} == {
            k: v.tolist() if hasattr(v, "tolist") else v for k, v in theirs.items()}
        assert theirs["view"].untyped_storage().data_ptr() == theirs["base"].untyped_storage().data_ptr()
        assert type(theirs["param"]) is torch.nn.Parameter
    names = []
    for lib in (ember, torch):
        buffer = io.BytesIO()
        lib.save({"a": lib.ones(2)}, buffer, _disable_byteorder_record=True)
        names.append([name.split("/", 1)[1] for name in zipfile.ZipFile(buffer).namelist()])
        assert torch.load(io.BytesIO(buffer.getvalue()))["a"].tolist() == [1.0, 1.0]
    assert names[0] == names[1]


# --- loading options ------------------------------------------------------------------------------
def test_map_location_forms(tmp_path):
    path = tmp_path / "m.pt"
    ember.save({"t": ember.arange(3)}, path)
    seen = []

    def keep(storage, location):
        seen.append((location, storage.nbytes()))
        return storage

    for map_location in [None, "cpu", ember.device("cpu"), {"cpu": "cpu"}, keep, lambda storage, location: None]:
        assert ember.load(path, map_location=map_location)["t"].tolist() == [0, 1, 2]
    assert seen == [("cpu", 24)]


def test_cuda_location_needs_map_location(tmp_path, monkeypatch):
    if ember.cuda.is_available():
        pytest.skip("this machine has a GPU")
    original = serialization._StorageRef.persistent_id
    monkeypatch.setattr(serialization._StorageRef, "persistent_id",
                        lambda ref: original(ref)[:3] + ("cuda:0",) + original(ref)[4:])
    path = tmp_path / "cuda.pt"
    ember.save(ember.ones(2), path)
    with pytest.raises(RuntimeError, match="map_location"):
        ember.load(path)
    assert ember.load(path, map_location="cpu").device == ember.device("cpu")
    assert ember.load(path, map_location={"cuda:0": "cpu"}).tolist() == [1.0, 1.0]
    assert torch.load(path, map_location="cpu").tolist() == [1.0, 1.0]


def test_mmap_maps_records_copy_on_write(tmp_path):
    path = tmp_path / "mapped.pt"
    ember.save({"a": ember.arange(4.0), "b": ember.ones(2, 2, dtype=ember.bfloat16)}, path)
    before = path.read_bytes()
    loaded = ember.load(path, mmap=True)
    assert loaded["a"].tolist() == [0.0, 1.0, 2.0, 3.0] and loaded["b"].dtype is ember.bfloat16
    loaded["a"].add_(1)
    assert path.read_bytes() == before
    with pytest.raises(ValueError, match="file path"):
        ember.load(io.BytesIO(before), mmap=True)


def test_file_objects_and_unseekable_streams(tmp_path):
    class WriteOnly:
        def __init__(self):
            self.chunks = []

        def write(self, data):
            self.chunks.append(bytes(data))
            return len(data)

    stream = WriteOnly()
    ember.save({"x": ember.arange(5)}, stream)
    data = b"".join(stream.chunks)
    assert torch.load(io.BytesIO(data))["x"].tolist() == list(range(5))
    with open(tmp_path / "f.pt", "wb") as file:
        ember.save([ember.ones(1)], file)
    with open(tmp_path / "f.pt", "rb") as file:
        assert ember.load(file)[0].tolist() == [1.0]


# --- safety ---------------------------------------------------------------------------------------
class _RunsCommand:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def test_weights_only_refuses_code_execution(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    ember.save({"weights": ember.ones(2), "payload": _RunsCommand(f"touch {marker}")}, path)
    with pytest.raises(pickle.UnpicklingError, match=r"unsupported GLOBAL posix\.system whose module posix is blocked"):
        ember.load(path)
    assert not marker.exists()
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)  # torch refuses our file the same way
    assert not marker.exists()


def test_weights_only_refuses_globals_in_torch_files(tmp_path):
    path = tmp_path / "evil_torch.pt"
    torch.save({"payload": _RunsCommand("true"), "getattr": getattr}, path)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        ember.load(path)


@pytest.mark.parametrize("make", [lambda lib: {"model": lib.nn.Linear(2, 2)}, lambda lib: [print],
                                  lambda lib: [_RunsCommand("true")]], ids=["module", "builtin", "blocked module"])
def test_weights_only_refusal_reads_as_torchs(make, tmp_path, monkeypatch):
    # The whole message: the two ways to load the file, and the add_safe_globals call for the global named.
    from ember import _alias
    monkeypatch.setattr(_alias, "installed", True)   # under `ember run`, where messages say torch
    torch.save(make(torch), tmp_path / "torch.pt")
    ember.save(make(ember), tmp_path / "ember.pt")
    with pytest.raises(pickle.UnpicklingError) as theirs:
        torch.load(tmp_path / "torch.pt")
    for path in (tmp_path / "torch.pt", tmp_path / "ember.pt"):
        with pytest.raises(pickle.UnpicklingError) as ours:
            ember.load(path)
        assert str(ours.value) == str(theirs.value)


def test_layouts_outside_the_storage_are_refused(monkeypatch):
    original = serialization._Pickler._reduce_tensor

    def widen(self, tensor):
        function, args = original(self, tensor)
        return function, args[:3] + ((1000,),) + args[4:]  # a stride that reads far past the storage

    monkeypatch.setattr(serialization._Pickler, "_reduce_tensor", widen)
    buffer = io.BytesIO()
    ember.save(ember.ones(4), buffer)
    buffer.seek(0)
    with pytest.raises(RuntimeError, match="out of bounds"):
        ember.load(buffer)


# --- damaged files and atomic writes --------------------------------------------------------------
def test_truncated_corrupt_and_foreign_files_raise_clearly(tmp_path):
    path = tmp_path / "whole.pt"
    ember.save({"w": ember.randn(64)}, path)
    data = path.read_bytes()
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(data[:len(data) // 2])
    with pytest.raises(RuntimeError, match=r"PytorchStreamReader failed reading zip archive '.*truncated\.pt'"):
        ember.load(truncated)
    with pytest.raises(RuntimeError):
        torch.load(truncated)
    corrupt = tmp_path / "corrupt.pt"
    offset = data.index(numpy.asarray(ember.load(path)["w"]).tobytes()[:16])
    corrupt.write_bytes(data[:offset] + bytes(16) + data[offset + 16:])
    with pytest.raises(RuntimeError, match=r"corrupt\.pt.*CRC"):
        ember.load(corrupt)
    foreign = tmp_path / "notes.txt"
    foreign.write_bytes(b"hello, not a checkpoint")
    with pytest.raises(RuntimeError, match=r"notes\.txt"):
        ember.load(foreign)
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    with pytest.raises(RuntimeError, match=r"empty\.pt' is empty"):
        ember.load(empty)


def test_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "keep.pt"
    ember.save({"version": 1}, path)
    with pytest.raises((pickle.PicklingError, AttributeError)):
        ember.save({"version": 2, "bad": lambda: None}, path)
    assert ember.load(path) == {"version": 1}
    assert os.listdir(tmp_path) == ["keep.pt"]
    with pytest.raises(RuntimeError, match="Parent directory"):
        ember.save(1, tmp_path / "missing" / "x.pt")


def test_new_file_permissions_follow_the_umask(tmp_path):
    ember.save(1, tmp_path / "a.pt")
    (tmp_path / "b.pt").write_bytes(b"")
    assert os.stat(tmp_path / "a.pt").st_mode == os.stat(tmp_path / "b.pt").st_mode


_SLOW_SAVE = textwrap.dedent("""
    import signal, sys, time
    import ember
    from ember import _checkpoint_writer

    # Python's own SIGINT handling, also where the test runs under a shell that started it with SIGINT ignored
    signal.signal(signal.SIGINT, signal.default_int_handler)

    class SlowStream(_checkpoint_writer._Stream):
        def __init__(self, file):
            super().__init__(file)
            write = self.write

            def slow_write(data):
                count = write(data)
                print("wrote", flush=True)
                time.sleep(0.02)
                return count
            self.write = slow_write

    _checkpoint_writer._Stream = SlowStream
    ember.save({"version": 2, "weights": [ember.ones(256) for _ in range(200)]}, sys.argv[1])
""")


def _run_save(path, script, signum=None):
    """Runs ``script`` saving to ``path`` in a child process, sending ``signum`` once it is midway; its return code."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    child = subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, cwd=root,
                             env={**os.environ, "PYTHONPATH": root})
    try:
        if signum is not None:
            for _ in range(20):  # the child is now in the middle of writing its records
                assert child.stdout.readline() == b"wrote\n"
            child.send_signal(signum)
        child.wait(timeout=30)
    finally:
        child.kill()
        child.stdout.close()
    return child.returncode


@pytest.mark.timeout(300)
def test_killed_save_leaves_previous_file_intact_and_a_later_save_sweeps_its_temporary(tmp_path):
    path = tmp_path / "model.pt"
    ember.save({"version": 1, "weights": ember.zeros(3)}, path)
    assert _run_save(path, _SLOW_SAVE, signal.SIGKILL) == -signal.SIGKILL
    loaded = ember.load(path)
    assert loaded["version"] == 1 and loaded["weights"].tolist() == [0.0] * 3
    leftovers = [name for name in os.listdir(tmp_path) if name != "model.pt"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".model.pt.") and leftovers[0].endswith(".tmp")
    (tmp_path / ".other.pt.0123456789ab.tmp").write_bytes(b"")  # another checkpoint's temporary is not ours
    assert _run_save(path, "import ember, sys; ember.save({'version': 3}, sys.argv[1])") == 0
    assert ember.load(path) == {"version": 3}
    assert sorted(os.listdir(tmp_path)) == [".other.pt.0123456789ab.tmp", "model.pt"]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_terminated_save_removes_its_temporary_and_dies_of_the_signal(tmp_path, signum):
    path = tmp_path / "model.pt"
    ember.save({"version": 1}, path)
    assert _run_save(path, _SLOW_SAVE, signum) == -signum
    assert ember.load(path) == {"version": 1}
    assert os.listdir(tmp_path) == ["model.pt"]


@pytest.mark.parametrize("name", ["uint16", "uint32", "uint64"])
def test_unsigned_dtypes_use_untyped_storage_both_ways(tmp_path, name):
    """torch writes these through _rebuild_tensor_v3 over an UntypedStorage; both libraries read the other's."""
    path = tmp_path / "u.pt"
    ember.save(ember.arange(5).to(getattr(ember, name))[1:], path)
    loaded = torch.load(path)
    assert loaded.dtype == getattr(torch, name) and loaded.tolist() == [1, 2, 3, 4]
    torch.save(torch.arange(4).to(getattr(torch, name)), path)
    back = ember.load(path)
    assert back.dtype == getattr(ember, name) and back.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("name", ["float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz"])
def test_float8_dtypes_use_untyped_storage_both_ways(tmp_path, name):
    """Float8 checkpoints (quantized models' weights) load in both libraries, views and strides kept."""
    path = tmp_path / "f8.pt"
    values = [1.5, -2.0, 0.25, 3.0, -0.5, 1.0]
    ember.save({"w": ember.tensor(values).to(getattr(ember, name)).reshape(2, 3)[:, 1:]}, path)
    loaded = torch.load(path)["w"]
    assert loaded.dtype == getattr(torch, name) and loaded.float().tolist() == [[-2.0, 0.25], [-0.5, 1.0]]
    torch.save({"w": torch.tensor(values).to(getattr(torch, name))[::2]}, path)
    back = ember.load(path)["w"]
    assert back.dtype is getattr(ember, name) and back.float().tolist() == [1.5, 0.25, -0.5]


def test_zip_records_laid_out_as_torch_writes_them():
    tensors = {f"w{i}": numpy.random.default_rng(i).standard_normal((i + 1, 3)).astype(numpy.float32)
               for i in range(12)}
    saved_t, saved_e = io.BytesIO(), io.BytesIO()
    torch.save({k: torch.from_numpy(v) for k, v in tensors.items()}, saved_t)
    ember.save({k: ember.tensor(v) for k, v in tensors.items()}, saved_e)
    records_t = zipfile.ZipFile(io.BytesIO(saved_t.getvalue())).infolist()
    records_e = zipfile.ZipFile(io.BytesIO(saved_e.getvalue())).infolist()
    # same records at the same offsets; the 64-byte padding lives in local headers only (central directory
    # entries carry no extra field, as torch's)
    assert [(r.filename, r.header_offset, r.file_size) for r in records_e] == \
        [(r.filename, r.header_offset, r.file_size) for r in records_t]
    assert all(r.extra == b"" for r in records_e) and all(r.extra == b"" for r in records_t)
