"""torch.distributed.device_mesh: one program on 4 ranks (meshes of one, two and three dimensions, explicit rank
grids, a mesh over part of the job, slicing, groups and an all_reduce over each, the errors), run on ember under
mpiexec and on torch's gloo backend, must give the same results on each rank."""
import pytest

from .launch import assert_same_results, results_beside_torch

pytest.importorskip("torch.distributed")


def test_meshes_groups_and_slices_match_torch(tmp_path):
    assert_same_results(*results_beside_torch("device_mesh.py", 4, tmp_path))


def test_a_mesh_needs_its_ranks_and_no_tensor_is_one():
    import ember
    from ember.distributed.device_mesh import DeviceMesh
    with pytest.raises(TypeError, match="The mesh argument is required"):
        DeviceMesh("cpu")
    assert not isinstance(ember.ones(2), DeviceMesh)
