"""DTensor's matrix products, split/merge views and row-wise ops: one program (scripts/dtensor_matrix.py) on 2
ranks, run on ember under mpiexec and on torch's gloo backend, must give the same output placements, whole values
and gradients on each rank."""
import pytest

from .launch import assert_same_results, results_beside_torch

pytest.importorskip("torch.distributed")


def test_dtensor_matrix_ops_match_torch(tmp_path):
    ours, theirs = results_beside_torch("dtensor_matrix.py", 2, tmp_path)
    assert_same_results(ours, theirs)
