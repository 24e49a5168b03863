"""ZeroRedundancyOptimizer: one program on 2 ranks (the partition, DDP training with Adam and SGD, parameter groups
and a scheduler, parameters as bucket views, the consolidated state_dict and loading it, add_param_group, the
errors), run on ember under mpiexec and on torch's gloo backend, must give the same results on each rank (weights and
states to float tolerance)."""
import pytest

from .launch import assert_same_results, results_beside_torch

pytest.importorskip("torch.distributed")


def test_zero_matches_torch(tmp_path):
    ours, theirs = results_beside_torch("zero.py", 2, tmp_path)
    assert_same_results(ours, theirs)
    assert ours[0]["adam_local_shapes"] != ours[1]["adam_local_shapes"]   # the state really is split
