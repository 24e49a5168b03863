"""Differential sweep of save/load against PyTorch 2.13, both ways (torch saves and ember loads, ember saves and
torch loads): storage sharing and offsets of views, the legacy format under every pickle protocol and with
map_location, storages, tensors' Python attributes and subclasses, map_location to the meta device, TorchScript
archives given to load, torch.serialization's switches (CRC-32, skip_data, mmap flags, byte order), its location
registry and helpers, and the errors and warnings of bad arguments, truncated files and unpicklable objects."""
import collections
import io
import mmap
import os
import pickle
import types
import warnings
import zipfile

import numpy
import pytest
import torch

import ember
from tests.oracle import as_numpy

LEGACY = {"_use_new_zipfile_serialization": False}


def _views(lib):
    """Views of one storage at several offsets and strides, and one of another storage."""
    base = lib.arange(24.).reshape(4, 6)
    return {"base": base, "t": base.t(), "slice": base[1:, 2:5], "step": base[:, ::2], "flat": base.view(-1)[5:],
            "scalar": base[1, 2], "expanded": lib.arange(3.).expand(4, 3), "diagonal": base.diagonal()}


def _save(lib, obj, **kwargs):
    buffer = io.BytesIO()
    lib.save(obj, buffer, **kwargs)
    buffer.seek(0)
    return buffer


def _layout(tensor, storages):
    """What of a loaded tensor's layout torch exposes: shape, strides, offset, storage size and which storage."""
    pointer = tensor.untyped_storage().data_ptr()
    return (tuple(tensor.shape), tensor.stride(), tensor.storage_offset(), tensor.untyped_storage().nbytes(),
            storages.setdefault(pointer, len(storages)))


@pytest.mark.parametrize("saver", ["torch", "ember"])
@pytest.mark.parametrize("legacy", [False, True])
def test_loaded_views_share_their_storage_at_torchs_offsets(saver, legacy):
    kwargs = LEGACY if legacy else {}
    expected = torch.load(_save(torch, _views(torch), **kwargs))
    source = torch if saver == "torch" else ember
    loaded = ember.load(_save(source, _views(source), **kwargs))
    torch_storages, ember_storages = {}, {}
    for key in expected:
        assert _layout(loaded[key], ember_storages) == _layout(expected[key], torch_storages), key
        numpy.testing.assert_array_equal(as_numpy(loaded[key]), as_numpy(expected[key]))
    loaded["base"][1, 2] = 100.   # one storage: a write through one view shows in the others
    assert loaded["slice"][0, 0].item() == loaded["t"][2, 1].item() == loaded["scalar"].item() == 100.


@pytest.mark.parametrize("protocol", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("saver", ["torch", "ember"])
def test_legacy_format_loads_under_every_pickle_protocol(saver, protocol):
    source = torch if saver == "torch" else ember
    buffer = _save(source, {"w": source.arange(6.).reshape(2, 3), "n": 3}, pickle_protocol=protocol, **LEGACY)
    loaded = ember.load(buffer, weights_only=False)
    assert loaded["n"] == 3
    numpy.testing.assert_array_equal(as_numpy(loaded["w"]), numpy.arange(6.).reshape(2, 3))


def test_a_pickle_of_something_else_is_an_invalid_magic_number():
    buffer = io.BytesIO(pickle.dumps({"a": 1}, 2))
    with pytest.raises(RuntimeError, match="Invalid magic number; corrupt file?") as expected:
        torch.load(buffer)
    buffer.seek(0)
    with pytest.raises(RuntimeError, match=str(expected.value).replace("?", r"\?")):
        ember.load(buffer)


def _storages(lib, legacy):
    """Storages saved by themselves and beside their tensor (torch's legacy format cannot load an untyped one)."""
    tensor = lib.arange(6, dtype=lib.int16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # TypedStorage's deprecation, warned once per process
        storages = {"typed": tensor.storage(), "tensor": tensor, "legacy_class": lib.FloatStorage([1, 2.5])}
        return storages if legacy else {"untyped": lib.arange(3.).untyped_storage(), **storages}


@pytest.mark.parametrize("saver", ["torch", "ember"])
@pytest.mark.parametrize("legacy", [False, True])
def test_storages_round_trip_both_ways_and_stay_shared_with_their_tensors(saver, legacy):
    kwargs = LEGACY if legacy else {}
    source = torch if saver == "torch" else ember
    buffer = _save(source, _storages(source, legacy), **kwargs)
    expected = torch.load(_save(torch, _storages(torch, legacy), **kwargs))
    for load in (torch.load, ember.load):   # ember's files load in torch too, with weights_only
        buffer.seek(0)
        loaded = load(buffer)
        for key in set(expected) - {"tensor"}:
            assert isinstance(loaded[key], (torch.TypedStorage, ember.TypedStorage)), key
            assert str(loaded[key].dtype).split(".")[1] == str(expected[key].dtype).split(".")[1], key
            assert loaded[key].tolist() == expected[key].tolist(), key
        assert loaded["typed"].data_ptr() == loaded["tensor"].untyped_storage().data_ptr()
        lib = ember if load is ember.load else torch
        for key, name in {"typed": "ShortStorage", "legacy_class": "FloatStorage"}.items():
            assert isinstance(loaded[key], getattr(lib, name)), key   # a loaded storage is of its legacy class
            assert not isinstance(loaded[key], lib.DoubleStorage), key


@pytest.mark.parametrize("lib", [torch, ember], ids=["torch", "ember"])
def test_a_tensor_and_its_untyped_storage_cannot_be_saved_together(lib):
    tensor = lib.arange(4.)
    with pytest.raises(RuntimeError, match="Cannot save multiple tensors or storages that view the same data as "
                                           "different types"):
        lib.save([tensor, tensor.untyped_storage()], io.BytesIO())


def _with_attributes(lib):
    tensor, parameter = lib.ones(3), lib.nn.Parameter(lib.ones(2))
    tensor.note, parameter.tag = 3, "x"
    return {"tensor": tensor, "parameter": parameter, "buffer": lib.nn.Buffer(lib.zeros(2), persistent=False)}


def _attributes(tensor):
    return type(tensor).__name__, {k: v for k, v in vars(tensor).items() if k not in ("requires_grad", "grad_fn")}


@pytest.mark.parametrize("saver", ["torch", "ember"])
@pytest.mark.parametrize("loader", ["torch", "ember"])
def test_python_attributes_of_tensors_and_parameters_survive_weights_only_loads(saver, loader):
    expected = torch.load(_save(torch, _with_attributes(torch)))
    source = torch if saver == "torch" else ember
    loaded = (torch if loader == "torch" else ember).load(_save(source, _with_attributes(source)))
    assert {k: _attributes(v) for k, v in loaded.items()} == {k: _attributes(v) for k, v in expected.items()}


class _Marked(ember.Tensor):
    """A tensor subclass of this test module, which a weights-only load must be told is safe."""


def test_a_tensor_subclass_keeps_its_class_and_attributes_once_marked_safe():
    tensor = ember.arange(3.).as_subclass(_Marked)
    tensor.unit = "m"
    buffer = _save(ember, tensor)
    with pytest.raises(pickle.UnpicklingError, match="_Marked"):
        ember.load(buffer)
    buffer.seek(0)
    with ember.serialization.safe_globals([_Marked]):
        loaded = ember.load(buffer)
    assert type(loaded) is _Marked and loaded.unit == "m" and loaded.tolist() == [0., 1., 2.]


@pytest.mark.parametrize("shape", [(2, 0), (3, 0, 2), (0,), (0, 4)])
def test_empty_tensors_are_saved_with_torchs_row_major_strides(shape):
    loaded = torch.load(_save(ember, ember.empty(shape)))
    assert loaded.stride() == torch.empty(shape).stride()


@pytest.mark.parametrize("form", ["str", "device", "dict"])
def test_map_location_meta_gives_meta_tensors_of_the_saved_shapes(form):
    def where(lib):
        return {"str": "meta", "device": lib.device("meta"), "dict": {"cpu": "meta"}}[form]
    expected = torch.load(_save(torch, {"w": torch.ones(2, 3), "i": torch.arange(4)}), map_location=where(torch))
    loaded = ember.load(_save(torch, {"w": torch.ones(2, 3), "i": torch.arange(4)}), map_location=where(ember))
    for key, tensor in expected.items():
        assert loaded[key].is_meta and tuple(loaded[key].shape) == tuple(tensor.shape)
        assert str(loaded[key].dtype).split(".")[1] == str(tensor.dtype).split(".")[1]


def _legacy_saved_on_cuda():
    """torch's legacy file of a tensor whose storage is tagged cuda:0 (the location string patched in its pickle)."""
    raw = _save(torch, {"w": torch.arange(3.)}, **LEGACY).getvalue()
    assert raw.count(b"X\x03\x00\x00\x00cpu") == 1
    return raw.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")


@pytest.mark.parametrize("form", ["str", "device", "dict", "callable"])
def test_legacy_checkpoints_saved_on_cuda_load_with_map_location(form):
    def where(lib):
        return {"str": "cpu", "device": lib.device("cpu"), "dict": {"cuda:0": "cpu"},
                "callable": lambda storage, location: storage}[form]
    for lib in (torch, ember):
        loaded = lib.load(io.BytesIO(_legacy_saved_on_cuda()), map_location=where(lib))
        assert loaded["w"].tolist() == [0., 1., 2.] and loaded["w"].device.type == "cpu"


@pytest.mark.skipif(ember.cuda.is_available(), reason="the storage loads onto the GPU")
def test_legacy_checkpoints_saved_on_cuda_need_a_map_location_without_cuda():
    with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA device"):
        torch.load(io.BytesIO(_legacy_saved_on_cuda()))
    with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA device"):
        ember.load(io.BytesIO(_legacy_saved_on_cuda()))


# --- torch.serialization's switches and registry ------------------------------------------------------------------
@pytest.mark.parametrize("saver", ["torch", "ember"])
def test_files_saved_without_crc32_checksums_load_in_both(saver):
    source = torch if saver == "torch" else ember
    source.serialization.set_crc32_options(False)
    try:
        raw = _save(source, {"w": source.arange(3.)}).getvalue()
    finally:
        source.serialization.set_crc32_options(True)
    assert {info.CRC for info in zipfile.ZipFile(io.BytesIO(raw)).infolist()} == {0}
    assert ember.serialization.get_crc32_options() is True
    for lib in (torch, ember):
        assert lib.load(io.BytesIO(raw))["w"].tolist() == [0., 1., 2.]


@pytest.mark.parametrize("lib", [torch, ember], ids=["torch", "ember"])
def test_skip_data_saves_zeros_and_loads_unfilled_storages_of_the_right_layout(lib):
    with lib.serialization.skip_data():
        skipped = _save(lib, {"w": lib.arange(1., 4.)})
    assert lib.load(skipped)["w"].tolist() == [0., 0., 0.]
    full = _save(lib, {"w": lib.arange(1., 4.).reshape(3, 1)})
    with lib.serialization.skip_data(materialize_fake_tensors=True):
        loaded = lib.load(full)["w"]
    assert tuple(loaded.shape) == (3, 1) and loaded.dtype == lib.float32
    with lib.serialization.skip_data(), pytest.raises(RuntimeError, match="Cannot use skip_data=True with "
                                                                          "_use_new_zipfile_serialization=False"):
        lib.save(lib.ones(2), io.BytesIO(), **LEGACY)


def _without_byteorder_record(tensor):
    """torch's file of ``tensor`` with its byteorder record left out (as checkpoints older than PyTorch 2.1)."""
    source = zipfile.ZipFile(_save(torch, tensor))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in source.namelist():
            if not name.endswith("/byteorder"):
                archive.writestr(name, source.read(name))
    return out.getvalue()


@pytest.mark.parametrize("endianness", [None, "LITTLE", "BIG", "NATIVE"])
def test_default_load_endianness_reads_files_without_a_byteorder_record(endianness):
    raw, results = _without_byteorder_record(torch.tensor([1., 2.])), []
    for lib in (torch, ember):
        settings = lib.serialization
        settings.set_default_load_endianness(endianness and getattr(settings.LoadEndianness, endianness))
        try:
            results.append(lib.load(io.BytesIO(raw)).tolist())
        finally:
            settings.set_default_load_endianness(None)
    assert results[0] == results[1]
    with pytest.raises(TypeError, match="Invalid argument type in function set_default_load_endianness"):
        ember.serialization.set_default_load_endianness("little")


def test_shared_mmap_options_write_loaded_tensors_through_to_the_file(tmp_path):
    path = tmp_path / "shared.pt"
    ember.save({"w": ember.zeros(4)}, path)
    with ember.serialization.set_default_mmap_options(mmap.MAP_SHARED):
        assert ember.serialization.get_default_mmap_options() == mmap.MAP_SHARED
        loaded = ember.load(path, mmap=True)["w"]
        loaded += 5
    assert ember.serialization.get_default_mmap_options() == mmap.MAP_PRIVATE
    del loaded
    assert torch.load(path)["w"].tolist() == [5.] * 4
    private = ember.load(path, mmap=True)["w"]
    private += 1   # copy-on-write: the file keeps its values
    assert torch.load(path)["w"].tolist() == [5.] * 4
    with pytest.raises(ValueError, match="expected mmap.MAP_PRIVATE or mmap.MAP_SHARED, but got 5"):
        ember.serialization.set_default_mmap_options(5)


@pytest.mark.parametrize("lib", [torch, ember], ids=["torch", "ember"])
def test_registered_packages_tag_and_restore_locations(lib):
    settings, seen = lib.serialization, []

    def tagger(storage):
        return None   # leaves the tag to the CPU tagger

    def deserializer(storage, location):
        seen.append(location)
        return storage if location == "weird" else None
    settings.register_package(5, tagger, deserializer)
    try:
        assert lib.load(_save(lib, lib.ones(2)), map_location="weird").tolist() == [1., 1.]
        assert settings.location_tag(lib.ones(2).untyped_storage()) == "cpu"
        assert settings.default_restore_location(lib.ones(2).untyped_storage(), "cpu").nbytes() == 8
        with pytest.raises(RuntimeError, match=r"don't know how to restore data location of .* \(tagged with xyz\)"):
            settings.default_restore_location(lib.ones(2).untyped_storage(), "xyz")
    finally:
        settings._package_registry[:] = [entry for entry in settings._package_registry if entry[1] is not tagger]
    assert seen == ["weird", "cpu", "xyz"]


def test_storage_type_helpers():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lib in (torch, ember):
            assert lib.serialization.normalize_storage_type(lib.FloatStorage) is lib.FloatStorage
            # FloatStorage([...]) is a TypedStorage, for which there is no TypedTensor
            with pytest.raises(AttributeError, match=f"module '{lib.__name__}.storage' has no attribute 'TypedTensor'"):
                lib.serialization.storage_to_tensor_type(lib.FloatStorage([1.]))


@pytest.mark.parametrize("version, required, expected", [("1.26.4", (1, 20), True), ("1.26.4", (2,), False),
                                                         ("x.y", (1, 2), RuntimeError)])
def test_check_module_version_greater_or_equal(version, required, expected):
    module = types.SimpleNamespace(__name__="m", __version__=version)
    for lib in (torch, ember):
        check = lib.serialization.check_module_version_greater_or_equal
        if expected is RuntimeError:
            with pytest.raises(RuntimeError, match="'m' module version string is malformed 'x.y'"):
                check(module, required)
            with pytest.warns(UserWarning, match="continuing assuming that requirement is met"):
                assert check(module, required, error_if_malformed=False) is True
        else:
            assert check(module, required) is expected


# --- arguments and errors -----------------------------------------------------------------------------------------
def _outcome(call):
    """``(exception type name, message)`` or ``('ok', None)``, with warnings' messages, the package named 'X'."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            call()
            result = ("ok", None)
        except Exception as error:   # noqa: BLE001  (any outcome is compared)
            result = (type(error).__name__, str(error))
    texts = [str(w.message) for w in caught if "TypedStorage" not in str(w.message)]
    return [text.replace("torch", "X").replace("ember", "X") for text in (*result[:1], result[1] or "", *texts)]


@pytest.mark.parametrize("case", ["save to an int", "load an int", "weights_only with encoding",
                                  "weights_only with an unknown argument", "mmap of a legacy file",
                                  "mmap of a legacy file named by a str"])
def test_argument_errors_and_warnings_as_torchs(case, tmp_path):
    legacy = tmp_path / "legacy.pt"
    torch.save(torch.ones(2), legacy, **LEGACY)
    modern = _save(torch, torch.ones(2)).getvalue()
    calls = {"save to an int": lambda lib: lib.save(lib.ones(2), 3),
             "load an int": lambda lib: lib.load(3),
             "weights_only with encoding": lambda lib: lib.load(io.BytesIO(modern), encoding="latin1"),
             "weights_only with an unknown argument": lambda lib: lib.load(io.BytesIO(modern), foo=1),
             "mmap of a legacy file": lambda lib: lib.load(legacy, mmap=True),
             "mmap of a legacy file named by a str": lambda lib: lib.load(str(legacy), mmap=True)}
    assert _outcome(lambda: calls[case](ember)) == _outcome(lambda: calls[case](torch))


def test_forcing_weights_only_off_warns_in_torchs_words(monkeypatch, tmp_path):
    path = tmp_path / "deque.pt"
    torch.save(collections.deque([1]), path)
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    assert _outcome(lambda: ember.load(path)) == _outcome(lambda: torch.load(path))


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_unsafe_globals_are_found_under_every_pickle_protocol(protocol):
    def checkpoint(lib):
        return {"queue": collections.deque([1]), "again": [collections.deque([2])], "cwd": os.getcwd,
                "counts": collections.Counter("a"), "weight": lib.ones(2)}
    found = ember.serialization.get_unsafe_globals_in_checkpoint(_save(ember, checkpoint(ember),
                                                                       pickle_protocol=protocol))
    assert sorted(found) == ["collections.deque", f"{os.getcwd.__module__}.getcwd"]
    if protocol < 4:   # (torch's scan cannot read protocol 4's opcodes)
        assert sorted(torch.serialization.get_unsafe_globals_in_checkpoint(
            _save(torch, checkpoint(torch), pickle_protocol=protocol))) == sorted(found)


@pytest.mark.parametrize("lib", [torch, ember], ids=["torch", "ember"])
def test_saving_a_tensor_with_a_backward_hook_warns_that_the_hook_is_not_saved(lib):
    tensor = lib.ones(2, requires_grad=True)
    tensor.register_hook(lambda grad: grad)
    with pytest.warns(UserWarning, match="backward hook .* on tensor will not be serialized"):
        loaded = lib.load(_save(lib, tensor))
    assert loaded.requires_grad and loaded.tolist() == [1., 1.]


@pytest.mark.parametrize("cut", [1, 5, 17, 20, 30])
def test_a_truncated_legacy_checkpoint_names_the_missing_bytes_as_torch(cut):
    raw = _save(torch, {"a": torch.ones(3), "b": torch.zeros(2, dtype=torch.int64)}, **LEGACY).getvalue()[:-cut]
    with pytest.raises(RuntimeError, match="unexpected EOF") as expected:
        torch.load(io.BytesIO(raw))
    with pytest.raises(RuntimeError) as got:
        ember.load(io.BytesIO(raw))
    assert str(got.value) == str(expected.value)


def test_a_torchscript_archive_given_to_load_goes_to_jit_load_as_in_torch():
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch 2.13 deprecates torch.jit.script, save and load
        torch.jit.save(torch.jit.script(torch.nn.Linear(2, 3)), buffer)
    outcomes = []
    for lib in (torch, ember):
        buffer.seek(0)
        with pytest.warns(UserWarning, match="received a zip file that looks like a TorchScript archive"), \
                pytest.raises(RuntimeError, match="Cannot use ``weights_only=True`` with TorchScript archives"):
            lib.load(buffer)
        buffer.seek(0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            module = lib.load(buffer, weights_only=False)
        assert any("dispatching to" in str(w.message) for w in caught)
        outcomes.append(module(lib.ones(1, 2)).tolist())
    assert outcomes[0] == outcomes[1]


def _local_function():
    def inner():
        return 1
    return inner


@pytest.mark.parametrize("case", ["lambda", "local function", "unimportable module"])
def test_unpicklable_functions_raise_torchs_errors(case):
    def unimportable():
        return 1
    unimportable.__module__ = "no_such_module_here"
    obj = {"lambda": lambda: 1, "local function": _local_function(), "unimportable module": unimportable}[case]
    with pytest.raises((AttributeError, pickle.PicklingError)) as expected:
        torch.save({"f": [obj]}, io.BytesIO())
    with pytest.raises(type(expected.value)) as got:
        ember.save({"f": [obj]}, io.BytesIO())
    assert str(got.value) == str(expected.value)


def test_the_module_exports_torchs_public_names():
    assert sorted(ember.serialization.__all__) == sorted(torch.serialization.__all__)
    assert all(hasattr(ember.serialization, name) for name in ember.serialization.__all__)


def test_storage_type_mkdtemp_and_hpu_validation_as_torchs():
    for lib in (torch, ember):
        settings = lib.serialization
        assert str(settings.StorageType("BFloat16Storage")) == f"StorageType(dtype={lib.__name__}.bfloat16)"
        with pytest.raises(KeyError, match='pickle storage type "Nope" is not recognized'):
            settings.StorageType("Nope")
        with settings.mkdtemp() as directory:
            assert os.path.isdir(directory)
        assert not os.path.exists(directory)
        with pytest.raises(RuntimeError, match="The HPU device module is not registered"):
            settings.validate_hpu_device("hpu")


def test_building_a_type_not_allowlisted_is_refused_in_torchs_words():
    raw = _save(torch, numpy.arange(3.)).getvalue()
    allowed = [numpy._core.multiarray._reconstruct, numpy.ndarray, numpy.dtype]   # not float64's dtype class
    messages = []
    for lib in (torch, ember):
        with lib.serialization.safe_globals(allowed), pytest.raises(pickle.UnpicklingError) as refused:
            lib.load(io.BytesIO(raw))
        messages.append(str(refused.value).split("WeightsUnpickler error:")[1].split("\n\n")[1])
    assert messages[0] == messages[1]
    assert messages[0].startswith("Can only build Tensor, Parameter, OrderedDict or types allowlisted via")


def _failing_map_location(storage, location):
    raise ValueError("this map_location refuses every storage")


@pytest.mark.parametrize("map_location", [3, _failing_map_location], ids=["not callable", "raising"])
@pytest.mark.parametrize("weights_only", [True, False])
def test_a_map_location_callables_own_error_comes_out_as_it_is(map_location, weights_only):
    raw = _save(torch, {"w": torch.ones(2)}).getvalue()
    with pytest.raises((TypeError, ValueError)) as expected:
        torch.load(io.BytesIO(raw), map_location=map_location, weights_only=weights_only)
    with pytest.raises(type(expected.value), match=str(expected.value).replace("'", ".")):
        ember.load(io.BytesIO(raw), map_location=map_location, weights_only=weights_only)
