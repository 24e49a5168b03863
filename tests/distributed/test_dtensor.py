"""DTensor (torch.distributed.tensor): one program (scripts/dtensor.py) on 2 and 3 ranks, run on ember under mpiexec
and on torch's gloo backend, must give the same placements, shapes, local parts, whole values, gradients, optimizer
steps and errors on each rank; an op ember has no sharding rule for raises PyTorch's NotImplementedError."""
import pytest

from .launch import assert_same_results, results_beside_torch

pytest.importorskip("torch.distributed")


@pytest.mark.parametrize("ranks", [2, 3])
def test_dtensor_matches_torch(tmp_path, ranks):
    ours, theirs = results_beside_torch("dtensor.py", ranks, tmp_path)
    assert_same_results(ours, theirs)
    # the parts really differ: each rank holds its own rows
    assert ours[0]["shard0"][3] != ours[1]["shard0"][3]
