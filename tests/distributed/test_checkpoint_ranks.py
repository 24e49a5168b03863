"""torch.distributed.checkpoint on 2 ranks: one program (scripts/checkpoint.py) run on ember under mpiexec and on
torch's gloo must record the same results on each rank (which rank's file holds each item, what loads back, the
errors), and each side's 2-rank checkpoint directory must load in the other library bit for bit."""
import numpy
import pytest

from .launch import assert_same_results, results_beside_torch

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
