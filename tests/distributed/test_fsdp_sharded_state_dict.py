"""FullyShardedDataParallel's SHARDED_STATE_DICT (DTensors given a DeviceMesh, else ShardedTensors) and
LOCAL_STATE_DICT (flat ShardedTensors): one program (scripts/fsdp_sharded_state_dict.py) saves each with DCP on 2
ranks on ember and on torch's gloo, and each library loads the other's checkpoints on 3 ranks (DCP reshards them);
every rank's layouts, losses and whole parameters must be torch's, and the loaded parameters the saved ones."""
import json

import pytest

from .launch import _close, assert_same_results, mpiexec, ok, torch_job

pytest.importorskip("torch.distributed")
SCRIPT = "fsdp_sharded_state_dict.py"


def _results(folder, ranks):
    """Each library's per-rank results (ember's with its names spelled as torch's)."""
    return [[json.loads((folder / f"{library}-{r}.json").read_text().replace("ember.", "torch.")) for r in range(ranks)]
            for library in ("ember", "torch")]


def test_sharded_state_dict_saved_on_two_ranks_loads_on_three_across_libraries(tmp_path):
    jobs = {"ember": mpiexec, "torch": torch_job}
    for library, job in jobs.items():
        (tmp_path / "save").mkdir(exist_ok=True)
        ok(job(SCRIPT, 2, library, tmp_path / "save", "save", tmp_path / f"{library}_checkpoint", timeout=180), 2)
    for library, other in (("ember", "torch"), ("torch", "ember")):
        (tmp_path / "load").mkdir(exist_ok=True)
        ok(jobs[library](SCRIPT, 3, library, tmp_path / "load", "load", tmp_path / f"{other}_checkpoint",
                         timeout=180), 3)
    (saved, saved_torch), (loaded, loaded_torch) = _results(tmp_path / "save", 2), _results(tmp_path / "load", 3)
    assert_same_results(saved, saved_torch)
    assert_same_results(loaded, loaded_torch)
    assert saved[0]["dtensor_layout"][0] == ["0.weight", "DTensor", "(Shard(dim=0),)", [3, 6]]
    assert loaded[2]["dtensor_layout"][4] == ["4.weight", "DTensor", "(Shard(dim=0),)", [0, 7]]   # 2 rows, 3 ranks
    assert loaded[2]["sharded_layout"][4][1] == "ShardedTensor" and loaded[2]["sharded_layout"][4][4] == []
    assert [entry[1] for entry in saved[1]["local_layout"]] == ["ShardedTensor"] * 3
    assert loaded[0]["api_layout"][0][:2] == ["0.weight", "ShardedTensor"]   # DCP's get_state_dict, default options
    for form in ("dtensor", "sharded", "local", "api"):
        for mine in loaded + loaded_torch:   # the other library's checkpoint, resharded
            assert _close(mine[form + "_whole"], saved[0][form + "_whole"]), form
