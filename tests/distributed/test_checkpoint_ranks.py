"""torch.distributed.checkpoint on 2 ranks: one program (scripts/checkpoint.py) run on ember under mpiexec and on
torch's gloo must record the same results on each rank (which rank's file holds each item, what loads back, the
errors), and each side's 2-rank checkpoint directory must load in the other library bit for bit."""
import numpy
import pytest

from .launch import assert_same_results, ok, results_beside_torch, torch_job

torch = pytest.importorskip("torch")
pytest.importorskip("torch.distributed")


def whole(module, path):
    """Every item of the checkpoint at ``path``, read by ``module`` (torch's or ember's DCP) into a new dict."""
    from importlib import import_module
    loader = import_module(f"{module.__name__}.state_dict_loader")
    return loader._load_state_dict_from_keys(checkpoint_id=path)


def raw(value):
    if hasattr(value, "numpy") and hasattr(value, "dtype"):
        return str(value.dtype).split(".")[-1], tuple(value.shape), numpy.ascontiguousarray(value.numpy()).tobytes()
    if isinstance(value, dict):
        return {k: raw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [raw(v) for v in value]
    return value


@pytest.mark.filterwarnings("ignore:torch.distributed is unavailable:UserWarning")
def test_checkpoint_on_two_ranks_matches_torch(tmp_path):
    import torch.distributed.checkpoint as tdcp

    import ember.distributed.checkpoint as dcp
    ours, theirs = results_beside_torch("checkpoint.py", 2, tmp_path)
    assert_same_results(ours, theirs)
    assert {file for _, file in ours[0]["files"]} == {"__0_0.distcp", "__1_0.distcp"}   # both ranks wrote items
    for path in (tmp_path / "ember-ckpt", tmp_path / "torch-ckpt"):
        mine, torchs = whole(dcp, path), whole(tdcp, path)
        assert raw(mine) == raw(torchs)
        assert sorted(mine) == ["model", "optim", "own0", "own1", "step", "table"]


@pytest.mark.filterwarnings("ignore:torch.distributed is disabled:UserWarning")
def test_torch_sharded_checkpoint_loads_into_whole_tensors(tmp_path):
    import ember
    import ember.distributed.checkpoint as dcp
    ok(torch_job("torch_sharded_checkpoint.py", 2, tmp_path / "ck"), 2)
    state = {"rows": ember.zeros(7, 5), "cols": ember.zeros(5, 7), "rep": ember.zeros(3, dtype=ember.float64),
             "plain": ember.zeros(2), "n": 0}
    dcp.load(state, checkpoint_id=tmp_path / "ck")
    full = numpy.arange(35.0, dtype=numpy.float32).reshape(7, 5)
    assert (state["rows"].numpy() == full).all() and (state["cols"].numpy() == full.T).all()
    assert state["rep"].tolist() == [1.0] * 3 and state["plain"].tolist() == [5.0, 5.0] and state["n"] == 3
    chunks = dcp.FileSystemReader(tmp_path / "ck").read_metadata().state_dict_metadata["cols"].chunks
    assert [(tuple(c.offsets), tuple(c.sizes)) for c in chunks] == [((0, 0), (5, 4)), ((0, 4), (5, 3))]
