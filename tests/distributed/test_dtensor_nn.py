"""DTensor through pooling and attention: one program (scripts/dtensor_nn.py) on 2 ranks, run on ember under mpiexec
and on torch's gloo backend, must give the same output placements, whole values and gradients on each rank."""
import pytest

from .launch import assert_same_results, results_beside_torch

pytest.importorskip("torch.distributed")


def test_dtensor_pooling_and_attention_match_torch(tmp_path):
    ours, theirs = results_beside_torch("dtensor_nn.py", 2, tmp_path)
    assert_same_results(ours, theirs)


def test_dtensor_multihead_attention_matches_torch(tmp_path):
    ours, theirs = results_beside_torch("dtensor_mha.py", 2, tmp_path)
    assert_same_results(ours, theirs)
