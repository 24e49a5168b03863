"""torch.distributed.checkpoint in one process: directories written by torch load in ember and the reverse (bit-equal
tensors, the same metadata), loading in place, the planners' errors, hostile metadata refused, the writer's options,
async_save, Stateful values, format_utils, and the state_dict helpers (model and optimizer state keyed by FQNs)
against torch's."""
import os
import pickle
import warnings

import numpy
import pytest
import torch
import torch.distributed.checkpoint as tdcp
from torch.distributed.checkpoint import state_dict as tsd

import ember
import ember.distributed.checkpoint as dcp
from ember.distributed.checkpoint import format_utils
from ember.distributed.checkpoint import state_dict as esd

pytestmark = pytest.mark.filterwarnings("ignore:torch.distributed is disabled:UserWarning",
                                        "ignore:torch.distributed is unavailable:UserWarning",
                                        "ignore:Detected an existing checkpoint:UserWarning")


def sample(lib):
    """The same nested state_dict in ``lib`` (torch or ember): tensors of several dtypes, a view, plain values."""
    base = lib.arange(10.0)
    return {"w": lib.linspace(-1, 1, 12).reshape(3, 4), "b": lib.arange(5), "step": 7,
            "nested": {"x": lib.ones(2, dtype=lib.float16), "s": "hi", "deep": {"y": lib.tensor([[1, 2]])}},
            "lst": [lib.zeros(1), 3], "bf": lib.tensor([0.5, -2.25]).to(lib.bfloat16), "view": base[2:5],
            "flag": lib.tensor([True, False])}


def zeros_like_sample(lib):
    return {"w": lib.zeros(3, 4), "b": lib.zeros(5, dtype=lib.int64), "step": 0,
            "nested": {"x": lib.zeros(2, dtype=lib.float16), "s": "", "deep": {"y": lib.zeros(1, 2, dtype=lib.int64)}},
            "lst": [lib.ones(1), 0], "bf": lib.zeros(2, dtype=lib.bfloat16), "view": lib.zeros(3),
            "flag": lib.zeros(2, dtype=lib.bool)}


def as_numpy(value):
    """Nested values with tensors as (dtype name, raw bytes), so torch's and ember's compare bit for bit."""
    if isinstance(value, (torch.Tensor, ember.Tensor)):
        array = value.view(torch.int16 if isinstance(value, torch.Tensor) else ember.int16).numpy() \
            if str(value.dtype).endswith("bfloat16") else value.numpy()
        return str(value.dtype).split(".")[-1], tuple(value.shape), numpy.ascontiguousarray(array).tobytes()
    if isinstance(value, dict):
        return {k: as_numpy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_numpy(v) for v in value]
    return value


def test_torch_checkpoint_loads_in_ember_in_place(tmp_path):
    tdcp.save(sample(torch), checkpoint_id=tmp_path / "ck")
    target = zeros_like_sample(ember)
    w, x = target["w"], target["nested"]["x"]
    dcp.load(target, checkpoint_id=tmp_path / "ck")
    assert as_numpy(target) == as_numpy(sample(torch))
    assert target["w"] is w and target["nested"]["x"] is x   # tensors are filled in place


def test_ember_checkpoint_loads_in_torch(tmp_path):
    metadata = dcp.save(sample(ember), checkpoint_id=str(tmp_path / "ck"))
    assert sorted(os.listdir(tmp_path / "ck")) == [".metadata", "__0_0.distcp"]
    target = zeros_like_sample(torch)
    tdcp.load(target, checkpoint_id=str(tmp_path / "ck"))
    assert as_numpy(target) == as_numpy(sample(torch))
    theirs = tdcp.FileSystemReader(str(tmp_path / "ck")).read_metadata()
    assert repr(theirs.state_dict_metadata) == repr(metadata.state_dict_metadata).replace("ember.", "torch.")
    assert theirs.planner_data == metadata.planner_data
    assert theirs.version == "1.0.0" and theirs.storage_meta.save_id == metadata.storage_meta.save_id
    assert sorted(k.fqn for k in theirs.storage_data) == sorted(k.fqn for k in metadata.storage_data)


def test_metadata_read_matches_torch(tmp_path):
    tdcp.save(sample(torch), checkpoint_id=tmp_path / "ck")
    theirs = tdcp.FileSystemReader(tmp_path / "ck").read_metadata()
    ours = dcp.FileSystemReader(tmp_path / "ck").read_metadata()
    assert repr(ours.state_dict_metadata).replace("ember.", "torch.") == repr(theirs.state_dict_metadata)
    assert ours.planner_data == theirs.planner_data
    assert {(k.fqn, tuple(k.offset) if k.offset is not None else None, k.index): (v.relative_path, v.offset, v.length)
            for k, v in ours.storage_data.items()} == \
        {(k.fqn, tuple(k.offset) if k.offset is not None else None, k.index): (v.relative_path, v.offset, v.length)
         for k, v in theirs.storage_data.items()}
    assert ours.storage_meta.checkpoint_id == theirs.storage_meta.checkpoint_id


def checkpoint_error(lib, call):
    with pytest.raises(BaseException) as info:
        call()
    text = str(info.value).splitlines()
    return type(info.value).__name__, text[0], text[-1]


@pytest.mark.parametrize("case", ["missing", "mismatch", "tensor_into_value"])
def test_load_errors_match_torch(tmp_path, case):
    tdcp.save({"w": torch.ones(3, 4), "step": 1}, checkpoint_id=tmp_path / "ck")

    def state(lib):
        return {"missing": {"w": lib.zeros(3, 4), "absent": lib.zeros(1)}, "mismatch": {"w": lib.zeros(4, 3)},
                "tensor_into_value": {"w": 5}}[case]

    ours = checkpoint_error(ember, lambda: dcp.load(state(ember), checkpoint_id=tmp_path / "ck"))
    theirs = checkpoint_error(torch, lambda: tdcp.load(state(torch), checkpoint_id=tmp_path / "ck"))
    assert ours == (theirs[0], theirs[1], theirs[2].replace("torch.", "ember."))


def test_partial_load_and_loading_into_an_empty_dict(tmp_path):
    tdcp.save({"w": torch.ones(2), "step": 3}, checkpoint_id=tmp_path / "ck")
    target = {"w": ember.zeros(2), "absent": ember.zeros(1)}
    dcp.load(target, checkpoint_id=tmp_path / "ck", planner=dcp.DefaultLoadPlanner(allow_partial_load=True))
    assert target["w"].tolist() == [1.0, 1.0] and target["absent"].tolist() == [0.0]
    empty = {}
    dcp.load(empty, checkpoint_id=tmp_path / "ck")
    assert empty == {}   # nothing asked, nothing read (as torch)


def test_hostile_metadata_is_refused(tmp_path):
    dcp.save({"w": ember.ones(2)}, checkpoint_id=tmp_path / "ck")
    marker = tmp_path / "ran"

    class Hostile:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    (tmp_path / "ck" / ".metadata").write_bytes(pickle.dumps(Hostile()))
    with pytest.raises(BaseException, match="GLOBAL posix.system is not allowed in checkpoint metadata"):
        dcp.load({"w": ember.zeros(2)}, checkpoint_id=tmp_path / "ck")
    assert not marker.exists()
    with pytest.raises(pickle.UnpicklingError, match="not allowed"):
        dcp.FileSystemReader(tmp_path / "ck").read_metadata()


def test_metadata_may_not_set_attributes_on_allowed_globals(tmp_path):
    # GLOBAL torch.float32, EMPTY_DICT {'itemsize': 8}, BUILD: would rewrite a dtype for the whole process
    data = b"\x80\x04ctorch\nfloat32\n}\x8c\x08itemsize\x94K\x08sb."
    (tmp_path / ".metadata").write_bytes(data)
    with pytest.raises(pickle.UnpicklingError, match="BUILD"):
        dcp.FileSystemReader(tmp_path).read_metadata()
    assert ember.float32.itemsize == 4


def test_data_file_outside_the_checkpoint_is_refused(tmp_path):
    tdcp.save({"w": torch.ones(2)}, checkpoint_id=tmp_path / "ck")
    metadata = tdcp.FileSystemReader(tmp_path / "ck").read_metadata()
    for info in metadata.storage_data.values():
        info.relative_path = "../elsewhere.distcp"
    with open(tmp_path / "ck" / ".metadata", "wb") as file:
        pickle.dump(metadata, file)
    error = checkpoint_error(ember, lambda: dcp.load({"w": ember.zeros(2)}, checkpoint_id=tmp_path / "ck"))
    assert "outside the checkpoint" in error[2]


def test_writer_options_lay_out_files_as_torch(tmp_path):
    for lib, module in (("torch", tdcp), ("ember", dcp)):
        state = sample(torch if lib == "torch" else ember)
        module.save(state, storage_writer=module.FileSystemWriter(tmp_path / f"{lib}-one", single_file_per_rank=False))
        module.save(state, storage_writer=module.FileSystemWriter(tmp_path / f"{lib}-two", thread_count=2,
                                                                  sync_files=False))
    for layout in ("one", "two"):
        assert sorted(os.listdir(tmp_path / f"ember-{layout}")) == sorted(os.listdir(tmp_path / f"torch-{layout}"))
        ours = dcp.FileSystemReader(tmp_path / f"ember-{layout}").read_metadata().storage_data
        theirs = tdcp.FileSystemReader(tmp_path / f"torch-{layout}").read_metadata().storage_data
        assert {k.fqn: v.relative_path for k, v in ours.items()} == {k.fqn: v.relative_path for k, v in theirs.items()}
        target = zeros_like_sample(torch)
        tdcp.load(target, checkpoint_id=tmp_path / f"ember-{layout}")
        assert as_numpy(target) == as_numpy(sample(torch))


def test_overwrite(tmp_path):
    dcp.save({"w": ember.ones(1)}, checkpoint_id=tmp_path)
    with pytest.warns(UserWarning, match="Detected an existing checkpoint in .*, overwriting since self.overwrite=Tr"):
        dcp.save({"w": ember.ones(1)}, checkpoint_id=tmp_path)
    ours = checkpoint_error(ember, lambda: dcp.save({"w": ember.ones(1)}, storage_writer=dcp.FileSystemWriter(
        tmp_path, overwrite=False)))
    theirs = checkpoint_error(torch, lambda: tdcp.save({"w": torch.ones(1)}, storage_writer=tdcp.FileSystemWriter(
        tmp_path, overwrite=False)))
    assert ours == theirs


def test_single_process_warnings_match_torch(tmp_path):
    for lib, module in (("torch", tdcp), ("ember", dcp)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            module.save({"w": (torch if lib == "torch" else ember).ones(1)}, checkpoint_id=tmp_path / lib)
            module.load({"w": (torch if lib == "torch" else ember).ones(1)}, checkpoint_id=tmp_path / lib)
            module.save_state_dict({"w": (torch if lib == "torch" else ember).ones(1)},
                                   module.FileSystemWriter(tmp_path / lib), no_dist=True)
            module.load_state_dict({"w": (torch if lib == "torch" else ember).ones(1)},
                                   module.FileSystemReader(tmp_path / lib), no_dist=True)
        messages = [(w.category.__name__, str(w.message)) for w in caught if "existing checkpoint" not in
                    str(w.message)]
        if lib == "torch":
            expected = messages
        else:
            assert messages == expected


def test_async_save_returns_a_future_of_the_metadata(tmp_path):
    state = {"w": ember.arange(6.0), "step": 2}
    future = dcp.async_save(state, checkpoint_id=tmp_path)
    state["w"].add_(100)   # the save wrote a copy taken before returning
    metadata = future.result(timeout=60)
    assert isinstance(metadata, dcp.Metadata) and sorted(metadata.state_dict_metadata) == ["step", "w"]
    target = {"w": torch.zeros(6), "step": 0}
    tdcp.load(target, checkpoint_id=tmp_path)
    assert target["w"].tolist() == list(range(6)) and target["step"] == 2


@pytest.mark.skipif(ember.cuda.is_available(), reason="pinned staging buffers need no accelerator here")
def test_cached_staging_pins_its_buffers_as_torch(tmp_path):
    errors = []
    for lib, module in ((torch, tdcp), (ember, dcp)):
        writer = module.FileSystemWriter(tmp_path / "cached", cache_staged_state_dict=True)
        with pytest.raises(RuntimeError) as info:
            module.async_save({"w": lib.ones(2)}, storage_writer=writer, checkpoint_id=tmp_path / "cached")
        errors.append(str(info.value))
    assert errors[1] == errors[0]


class Counter:
    """A Stateful application object."""

    def __init__(self, lib):
        self.lib, self.count = lib, lib.zeros(1)

    def state_dict(self):
        return {"count": self.count.clone()}

    def load_state_dict(self, state):
        self.count = state["count"] * 10


def test_stateful_values(tmp_path):
    counter = Counter(torch)
    counter.count += 4
    tdcp.save({"app": counter}, checkpoint_id=tmp_path)
    ours = Counter(ember)
    dcp.load({"app": ours}, checkpoint_id=tmp_path)
    assert ours.count.tolist() == [40.0]
    assert isinstance(ours, dcp.stateful.Stateful)


def test_format_utils_both_ways(tmp_path):
    tdcp.save(sample(torch), checkpoint_id=tmp_path / "torch-dcp")
    format_utils.dcp_to_torch_save(tmp_path / "torch-dcp", tmp_path / "whole.pt")
    assert as_numpy(torch.load(tmp_path / "whole.pt")) == as_numpy(sample(torch))
    torch.save(sample(torch), tmp_path / "theirs.pt")
    format_utils.torch_save_to_dcp(tmp_path / "theirs.pt", tmp_path / "ember-dcp")
    target = zeros_like_sample(torch)
    tdcp.load(target, checkpoint_id=tmp_path / "ember-dcp")
    assert as_numpy(target) == as_numpy(sample(torch))


def test_load_state_dict_from_keys(tmp_path):
    from ember.distributed.checkpoint.state_dict_loader import _load_state_dict_from_keys
    tdcp.save(sample(torch), checkpoint_id=tmp_path)
    assert as_numpy(_load_state_dict_from_keys(checkpoint_id=tmp_path)) == as_numpy(sample(torch))
    assert as_numpy(_load_state_dict_from_keys({"nested"}, checkpoint_id=tmp_path)) == \
        as_numpy({"nested": sample(torch)["nested"]})


# --- state_dict helpers ---------------------------------------------------------------------------------------------
def trained(lib, optimizer="adam", frozen=False):
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
    model.register_buffer("scale", lib.ones(2))
    if frozen:
        model[2].weight.requires_grad_(False)
    if optimizer == "adam":
        opt = lib.optim.Adam(model.parameters(), lr=0.1)
    else:
        opt = lib.optim.SGD([{"params": [model[0].weight]}, {"params": [model[0].bias, model[2].bias], "lr": 0.5}],
                            lr=0.1, momentum=0.9)
    return model, opt


def plain(value):
    if isinstance(value, (torch.Tensor, ember.Tensor)):
        return value.tolist()
    if isinstance(value, dict):
        return (type(value).__name__, {k: plain(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def assert_close(mine, theirs, where=""):
    """Same structure, types and keys; floats to 1e-4 relative (training steps round differently in the last bits)."""
    if isinstance(theirs, float):
        assert isinstance(mine, float) and mine == pytest.approx(theirs, rel=1e-4, abs=1e-8), (where, mine, theirs)
    elif isinstance(theirs, (list, tuple)):
        assert type(mine) is type(theirs) and len(mine) == len(theirs), (where, mine, theirs)
        for i, (a, b) in enumerate(zip(mine, theirs)):
            assert_close(a, b, f"{where}[{i}]")
    elif isinstance(theirs, dict):
        assert list(mine) == list(theirs), (where, list(mine), list(theirs))
        for k in theirs:
            assert_close(mine[k], theirs[k], f"{where}.{k}")
    else:
        assert mine == theirs, (where, mine, theirs)


@pytest.mark.parametrize("optimizer", ["adam", "sgd_groups"])
@pytest.mark.parametrize("options", [{}, {"flatten_optimizer_state_dict": True}, {"ignore_frozen_params": True},
                                     {"cpu_offload": True, "full_state_dict": True}])
def test_get_state_dict_matches_torch(optimizer, options):
    results = []
    for lib, module in ((torch, tsd), (ember, esd)):
        model, opt = trained(lib, optimizer, frozen=True)
        before = module.get_state_dict(model, opt, options=module.StateDictOptions(**options))  # initializes state
        lib.manual_seed(1)
        model(lib.randn(5, 3)).pow(2).sum().backward()
        opt.step()
        after = module.get_state_dict(model, opt, options=module.StateDictOptions(**options))
        results.append(plain([before, after, opt.state_dict()]))
    assert_close(results[1], results[0])


@pytest.mark.parametrize("flatten", [False, True])
def test_set_state_dict_matches_torch(flatten):
    results = []
    for lib, module in ((torch, tsd), (ember, esd)):
        options = module.StateDictOptions(flatten_optimizer_state_dict=flatten)
        source, source_opt = trained(lib, "sgd_groups")
        lib.manual_seed(1)
        source(lib.randn(5, 3)).pow(2).sum().backward()
        source_opt.step()
        model_sd, optim_sd = module.get_state_dict(source, source_opt, options=options)
        target, target_opt = trained(lib, "sgd_groups")
        with lib.no_grad():
            for p in target.parameters():
                p.zero_()
        keys = module.set_state_dict(target, target_opt, model_state_dict=model_sd, optim_state_dict=optim_sd,
                                     options=options)
        results.append(plain([tuple(keys), target.state_dict(), target_opt.state_dict()]))
    assert_close(results[1], results[0])


def test_set_model_state_dict_errors_match_torch():
    results = []
    for lib, module in ((torch, tsd), (ember, esd)):
        model, _ = trained(lib)
        keys = module.set_model_state_dict(model, {"0.weight": lib.zeros(4, 3)},
                                           options=module.StateDictOptions(strict=False))
        with pytest.raises(RuntimeError) as info:
            module.set_model_state_dict(model, {"0.weight": lib.zeros(4, 3)})
        with pytest.raises(ValueError) as empty:   # its message names the rank, which needs a process group
            module.get_model_state_dict(lib.nn.ReLU())
        results.append([list(keys.missing_keys), list(keys.unexpected_keys), str(info.value), str(empty.value)])
    assert results[1] == results[0]


def test_compiled_model_keys_drop_orig_mod():
    model, opt = trained(ember)
    compiled = ember.compile(model)
    model_sd, optim_sd = esd.get_state_dict(compiled, opt)
    assert list(model_sd) == list(model.state_dict())
    assert list(optim_sd["state"]) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    esd.set_model_state_dict(compiled, model_sd)


def test_checkpoint_of_model_and_optimizer_round_trips_through_torch(tmp_path):
    model, opt = trained(ember)
    ember.manual_seed(1)
    model(ember.randn(5, 3)).pow(2).sum().backward()
    opt.step()
    model_sd, optim_sd = esd.get_state_dict(model, opt)
    dcp.save({"model": model_sd, "optim": optim_sd}, checkpoint_id=tmp_path)
    their_model, their_opt = trained(torch)
    their_sd = dict(zip(("model", "optim"), tsd.get_state_dict(their_model, their_opt)))
    tdcp.load(their_sd, checkpoint_id=tmp_path)
    tsd.set_state_dict(their_model, their_opt, model_state_dict=their_sd["model"], optim_state_dict=their_sd["optim"])
    assert plain(their_model.state_dict()) == plain(model.state_dict())
    assert plain(their_opt.state_dict()) == plain(opt.state_dict())


def test_state_dict_utils_match_torch():
    from torch.distributed import _state_dict_utils as tutils

    from ember.distributed import _state_dict_utils as eutils
    results = []
    for lib, utils in ((torch, tutils), (ember, eutils)):
        state = {"w": lib.arange(6.0).reshape(2, 3), "step": lib.tensor(3), "n": 4, "tags": ["a", (1, 2.5)],
                 "empty": lib.zeros(0), "none": None}
        cpu = utils._create_cpu_state_dict(state)
        copied = utils._copy_state_dict(state, cpu)
        same = utils._check_state_dict_similarity(state, cpu)
        different = utils._check_state_dict_similarity(state, {**cpu, "w": lib.zeros(3, 2)})
        offloaded = utils._offload_state_dict_to_cpu(state)
        with pytest.raises(ValueError) as info:
            utils._copy_state_dict({"x": object()}, {"x": object()})
        results.append(plain([copied, copied["w"] is cpu["w"], copied["w"] is state["w"], same, different, offloaded,
                              str(info.value).split("'")[0]]))
    assert results[1] == results[0]


def test_a_failed_save_leaves_the_previous_checkpoint_whole(tmp_path):
    dcp.save({"w": ember.arange(4.0), "note": "first"}, checkpoint_id=tmp_path)
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(BaseException, match="pickle"):
        dcp.save({"w": ember.zeros(4), "note": lambda: None}, checkpoint_id=tmp_path)   # fails while writing
    assert sorted(os.listdir(tmp_path)) == before   # no temporaries left, nothing replaced
    target = {"w": torch.zeros(4), "note": ""}
    tdcp.load(target, checkpoint_id=tmp_path)
    assert target["w"].tolist() == [0.0, 1.0, 2.0, 3.0] and target["note"] == "first"


def test_checkpoint_flattened_as_torch_2_3_loads(tmp_path, monkeypatch):
    from torch.distributed.checkpoint import _version
    monkeypatch.setattr(_version, "_derived_version", "2_3")   # torch then flattens as 2.3 did: groups kept whole
    state = {"model": {"w": torch.ones(2)},
             "optim": {"state": {"w": {"step": torch.tensor(3.0)}}, "param_groups": [{"lr": 0.5, "params": ["w"]}]}}
    tdcp.save(state, checkpoint_id=tmp_path)
    monkeypatch.setattr(_version, "_derived_version", None)
    saved_keys = sorted(tdcp.FileSystemReader(tmp_path).read_metadata().state_dict_metadata)
    assert saved_keys == ["model.w", "optim.param_groups", "optim.state.w.step"]
    target = {"model": {"w": ember.zeros(2)},
              "optim": {"state": {"w": {"step": ember.tensor(0.0)}}, "param_groups": [{"lr": 0.0, "params": ["x"]}]}}
    dcp.load(target, checkpoint_id=tmp_path)
    assert target["model"]["w"].tolist() == [1.0, 1.0] and target["optim"]["state"]["w"]["step"].item() == 3.0
    assert target["optim"]["param_groups"] == [{"lr": 0.5, "params": ["w"]}]


class _Hostile:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_forced_weights_only_load_refuses_hostile_values(tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    dcp.save({"value": _Hostile(marker)}, checkpoint_id=tmp_path / "ck")
    monkeypatch.setenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "1")   # non-tensor values load as torch.load's default then
    errors = []
    for module in (tdcp, dcp):
        errors.append(checkpoint_error(None, lambda: module.load({"value": None}, checkpoint_id=tmp_path / "ck")))
    assert not marker.exists()
    assert errors[1] == errors[0] and errors[0][0] == "CheckpointException"


def test_fsspec_urls_go_both_ways():
    pytest.importorskip("fsspec")
    from ember.distributed.checkpoint._fsspec_filesystem import FsspecReader, FsspecWriter
    tdcp.save(sample(torch), checkpoint_id="memory://dcp-torch")   # fsspec's memory store is per process
    target = zeros_like_sample(ember)
    dcp.load(target, checkpoint_id="memory://dcp-torch")
    assert as_numpy(target) == as_numpy(sample(torch))
    dcp.save(sample(ember), storage_writer=FsspecWriter("memory://dcp-ember", sync_files=False))
    target = zeros_like_sample(torch)
    tdcp.load(target, checkpoint_id="memory://dcp-ember")
    assert as_numpy(target) == as_numpy(sample(torch))
    target = zeros_like_sample(ember)
    dcp.load(target, storage_reader=FsspecReader("memory://dcp-ember"))
    assert as_numpy(target) == as_numpy(sample(torch))


def test_unreachable_urls_fail_as_torch():
    pytest.importorskip("fsspec")
    errors = []
    for lib, module in ((torch, tdcp), (ember, dcp)):
        with pytest.raises(BaseException) as info:
            module.save({"w": lib.ones(1)}, checkpoint_id="nosuchprotocol://bucket/ck")
        errors.append((type(info.value).__name__, str(info.value)))
    assert errors[1] == errors[0]


def test_a_writer_thread_failing_fails_the_save(tmp_path):
    dcp.save({"w": ember.arange(3.0)}, checkpoint_id=tmp_path)
    state = {f"t{i}": ember.ones(2) for i in range(4)}
    state["bad"] = lambda: None   # in one of the two files; the other file is written whole
    with pytest.raises(BaseException, match="pickle"):
        dcp.save(state, storage_writer=dcp.FileSystemWriter(tmp_path, thread_count=2))
    assert sorted(os.listdir(tmp_path)) == [".metadata", "__0_0.distcp"]   # nothing renamed, nothing left over
    target = {"w": ember.zeros(3)}
    dcp.load(target, checkpoint_id=tmp_path)   # the previous checkpoint is untouched
    assert target["w"].tolist() == [0.0, 1.0, 2.0]


def test_read_items_for_saved_chunks_match_torch():
    from torch.distributed.checkpoint import metadata as tmd
    from torch.distributed.checkpoint import planner_helpers as thelp

    from ember.distributed.checkpoint import metadata as emd
    from ember.distributed.checkpoint import planner_helpers as ehelp

    def reads(lib, md, helpers):
        saved = [((0, 0), (3, 4)), ((3, 0), (4, 2)), ((3, 2), (4, 2)), ((7, 0), (0, 4))]
        local = [((0, 0), (7, 4)), ((2, 1), (3, 2))]
        chunk = lambda offsets, sizes: md.ChunkStorageMetadata(lib.Size(offsets), lib.Size(sizes))  # noqa: E731
        checkpoint = md.TensorStorageMetadata(md.TensorProperties(), lib.Size([7, 4]), [chunk(*c) for c in saved])
        items = helpers.create_read_items_for_chunk_list("t", checkpoint, [chunk(*c) for c in local])
        return sorted((i.dest_index.index, tuple(i.dest_index.offset), i.storage_index.index, tuple(i.dest_offsets),
                       tuple(i.storage_offsets), tuple(i.lengths)) for i in items)

    assert reads(ember, emd, ehelp) == reads(torch, tmd, thelp)


def test_a_writer_with_the_stager_methods_stages_its_own_state_dicts(tmp_path):
    class StagingWriter(dcp.filesystem._FileSystemWriter):   # no AsyncStager base: the protocol's methods only
        _synchronize_after_execute = False
        should_synchronize_after_execute = False
        staged = []

        def stage(self, state_dict):
            self.staged.append(sorted(state_dict))
            return {k: v.clone() for k, v in state_dict.items()}

        def synchronize_staging(self):
            pass

        def close(self):
            pass

    future = dcp.async_save({"w": ember.ones(2)}, storage_writer=StagingWriter(tmp_path))
    assert future.result(timeout=60) is not None and StagingWriter.staged == [["w"]]
