"""torch.distributed.device_mesh: one program on 4 ranks (meshes of one, two and three dimensions, explicit rank
grids, a mesh over part of the job, slicing, groups and an all_reduce over each, the errors), run on ember under
mpiexec and on torch's gloo backend, must give the same results on each rank."""
import json

import pytest

from .launch import mpiexec, ok, torch_job

pytest.importorskip("torch.distributed")
RANKS = 4


def _results(result, library, folder):
    ok(result, RANKS)
    return [json.loads((folder / f"{library}-{r}.json").read_text()) for r in range(RANKS)]


def test_meshes_groups_and_slices_match_torch(tmp_path):
    ours = _results(mpiexec("device_mesh.py", RANKS, "ember", tmp_path, timeout=180), "ember", tmp_path)
    theirs = _results(torch_job("device_mesh.py", RANKS, "torch", tmp_path, timeout=180), "torch", tmp_path)
    ours = [json.loads(json.dumps(r).replace("ember.", "torch.")) for r in ours]   # dtype names
    for mine, torchs in zip(ours, theirs):
        assert mine.keys() == torchs.keys()
        for key in torchs:
            assert mine[key] == torchs[key], (mine["rank"], key)


def test_a_mesh_needs_its_ranks_and_no_tensor_is_one():
    import ember
    from ember.distributed.device_mesh import DeviceMesh
    with pytest.raises(TypeError, match="The mesh argument is required"):
        DeviceMesh("cpu")
    assert not isinstance(ember.ones(2), DeviceMesh)
