"""FSDP2 with distributed checkpoints: a fully_shard model and its Adam state (DTensors) saved with dcp.save on 2 ranks
load into the same model on 3 ranks (other shards: DCP reshards), equal after loading and after one more step to
the run that saved them; PyTorch's own format_utils reads the checkpoint back into the whole tensors."""
import json

import pytest

from .launch import mpiexec, ok


def test_save_on_two_ranks_load_on_three(tmp_path):
    ok(mpiexec("fsdp2_checkpoint.py", 2, "save", tmp_path, timeout=120), 2)
    ok(mpiexec("fsdp2_checkpoint.py", 3, "load", tmp_path, timeout=120), 3)
    saved, loaded = (json.loads((tmp_path / f"{mode}.json").read_text()) for mode in ("save", "load"))
    assert saved["types"] == loaded["types"] == ["DTensor"] * 6
    assert loaded["checkpointed"] == saved["checkpointed"]   # the exact values, gathered from other shards
    assert all(kind == "DTensor" for states in loaded["checkpointed"][1] for key, kind, _ in states if key != "step")
    for mine, theirs in zip(loaded["next_step"][0], saved["next_step"][0], strict=True):
        assert mine == pytest.approx(theirs, rel=1e-5, abs=1e-6)


def test_torch_reads_the_checkpoint(tmp_path):
    torch = pytest.importorskip("torch")
    from torch.distributed.checkpoint.format_utils import dcp_to_torch_save
    ok(mpiexec("fsdp2_checkpoint.py", 2, "save", tmp_path, timeout=120), 2)
    dcp_to_torch_save(tmp_path / "checkpoint", tmp_path / "whole.pt")
    whole = torch.load(tmp_path / "whole.pt", weights_only=False)
    saved = json.loads((tmp_path / "save.json").read_text())
    names = ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    for name, values in zip(names, saved["checkpointed"][0], strict=True):
        assert whole["model"][name].flatten().tolist() == pytest.approx(values, abs=0)
    exp_avg = saved["checkpointed"][1][0][0]
    assert exp_avg[0] == "exp_avg" and whole["optim"]["state"]["0"]["exp_avg"].flatten().tolist() == exp_avg[2]
