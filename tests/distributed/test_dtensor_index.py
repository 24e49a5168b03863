"""DTensor through indexing, scans, sorts, selections, flip/roll and a convolution's strategy: one program
(scripts/dtensor_index.py) on 2 ranks, run on ember under mpiexec and on torch's gloo backend, must give the same
output placements and whole values, the same errors, and the same whole gradients on each rank."""
import pytest

from .launch import assert_same_results, results_beside_torch

pytest.importorskip("torch.distributed")


def test_dtensor_indexing_scans_and_sorts_match_torch(tmp_path):
    ours, theirs = results_beside_torch("dtensor_index.py", 2, tmp_path)
    assert_same_results(ours, theirs)
