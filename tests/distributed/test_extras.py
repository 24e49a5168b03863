"""torch.distributed's less common calls (subgroups, object point-to-point, coalesced collectives, the group count,
backend queries, a store given to init_process_group): one program on 2 ranks, run on ember under mpiexec and on
torch's gloo backend, must give the same results on each rank. The single-process calls are checked here."""
import json

import pytest

import ember.distributed as dist

from .launch import mpiexec, ok, torch_job

torch_dist = pytest.importorskip("torch.distributed")


def _results(result, library, folder, ranks=2):
    ok(result, ranks)
    return [json.loads((folder / f"{library}-{r}.json").read_text()) for r in range(ranks)]


def test_program_gives_torchs_results(tmp_path):
    ours = _results(mpiexec("extras.py", 2, "ember", tmp_path / "ember-store", tmp_path, timeout=120), "ember",
                    tmp_path)
    theirs = _results(torch_job("extras.py", 2, "torch", tmp_path / "torch-store", tmp_path), "torch", tmp_path)
    ours = [json.loads(json.dumps(r).replace("ember.", "torch.")) for r in ours]   # dtype names in messages
    for mine, torchs in zip(ours, theirs):
        assert mine.keys() == torchs.keys()
        for key in torchs:
            assert mine[key] == torchs[key], (mine["rank"], key)


def test_debug_level_matches_torch(monkeypatch):
    assert ({name: level.value for name, level in dist.DebugLevel.__members__.items()} ==
            {name: level.value for name, level in torch_dist.DebugLevel.__members__.items()})
    assert repr(dist.DebugLevel.INFO) == repr(torch_dist.DebugLevel.INFO)
    before = torch_dist.get_debug_level()
    try:
        for value in ("info", "DETAIL", "off", "bad"):
            monkeypatch.setenv("TORCH_DISTRIBUTED_DEBUG", value)
            outcomes = []
            for module in (dist, torch_dist):
                try:
                    module.set_debug_level_from_env()
                    outcomes.append(module.get_debug_level().name)
                except ValueError as error:
                    outcomes.append(str(error))
            assert outcomes[0] == outcomes[1], value
        dist.set_debug_level(dist.DebugLevel.DETAIL)
        assert dist.get_debug_level() is dist.DebugLevel.DETAIL
        with pytest.raises(TypeError):
            dist.set_debug_level("DETAIL")
        with pytest.raises(TypeError):
            torch_dist.set_debug_level("DETAIL")
    finally:
        torch_dist.set_debug_level(before)
        dist.set_debug_level(dist.DebugLevel.OFF)
        dist.debug._level = None   # back to "the environment decides", as at import


def test_debug_level_off_turns_the_collective_check_off(monkeypatch):
    monkeypatch.delenv("TORCH_DISTRIBUTED_DEBUG", raising=False)
    try:
        assert dist.get_debug_level() is dist.DebugLevel.OFF and dist.debug.checks_collectives()
        dist.set_debug_level(dist.DebugLevel.OFF)
        assert not dist.debug.checks_collectives()
        dist.set_debug_level(dist.DebugLevel.INFO)
        assert dist.debug.checks_collectives()
    finally:
        dist.debug._level = None


def test_backend_queries_without_a_group():
    for device in ("cpu", "cuda", "mps", "xpu"):
        assert dist.get_default_backend_for_device(device) == torch_dist.get_default_backend_for_device(device)
    with pytest.raises(ValueError, match="Default backend not registered for device : meta"):
        dist.get_default_backend_for_device("meta")
    with pytest.raises(RuntimeError):
        dist.get_default_backend_for_device("foo")
    for config in ("gloo", "nccl", "mpi", "cpu:gloo,cuda:nccl", "GLOO", "undefined"):
        assert repr(dist.BackendConfig(config)) == repr(torch_dist.distributed_c10d.BackendConfig(config))
    with pytest.raises(ValueError, match="Duplicate device type cpu"):
        dist.BackendConfig("cpu:gloo,cpu:mpi")
    assert dist.is_backend_available("mpi") == dist.is_mpi_available()
    for op in ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR", "PREMUL_SUM"):
        assert dist.supports_complex(getattr(dist.ReduceOp, op)) == torch_dist.supports_complex(
            getattr(torch_dist.ReduceOp, op))
    assert dist.get_pg_count() == 0
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.get_backend_config()


def test_deprecated_reduce_op_namespace_warns_as_torchs():
    """``dist.reduce_op`` (old tutorials' spelling): ReduceOp's members, each attribute read a FutureWarning."""
    for lib in (dist, torch_dist):
        with pytest.warns(FutureWarning) as caught:
            members = list(lib.reduce_op.__members__)
            total = lib.reduce_op.SUM
        assert [str(w.message) for w in caught] == ["`torch.distributed.reduce_op` is deprecated, please use "
                                                    "`torch.distributed.ReduceOp` instead"] * 2
        assert caught[0].filename == __file__
        assert members == ["SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR", "PREMUL_SUM"]
        assert total == lib.ReduceOp.SUM and str(total) == "RedOpType.SUM" and not hasattr(lib.ReduceOp, "UNUSED")


def test_rpc_module_without_rpc():
    """``torch.distributed.rpc`` imports (PyTorch Geometric imports it at start-up) and says RPC is unavailable, as
    PyTorch's module in a build without it; nothing else is offered."""
    from ember.distributed import rpc
    assert rpc.is_available() is False and rpc.__all__ == ["is_available"]
    assert not hasattr(rpc, "api") and not hasattr(rpc, "init_rpc")


def test_composable_fsdp_is_fsdp2_under_its_former_path():
    # transformers imports fully_shard from torch.distributed._composable.fsdp whenever torch.distributed is available
    import ember.distributed._composable.fsdp as ours
    import ember.distributed.fsdp as fsdp
    import torch.distributed._composable.fsdp as theirs
    import torch.distributed.fsdp as torch_fsdp
    assert sorted(ours.__all__) == sorted(n for n in ours.__all__ if hasattr(theirs, n))
    assert all(getattr(ours, name) is getattr(fsdp, name) for name in ours.__all__)
    assert all(getattr(theirs, name) is getattr(torch_fsdp, name) for name in ours.__all__)
