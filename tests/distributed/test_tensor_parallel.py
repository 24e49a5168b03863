"""Tensor parallelism (torch.distributed.tensor.parallel): one program (scripts/tensor_parallel.py) on 2 ranks, run
on ember under mpiexec and on torch's gloo backend, trains a colwise/rowwise MLP and a small sequence-parallel
Transformer with a loss_parallel head (SGD and Adam, float64 and float32) and must give the same losses, parameter
layouts, local parts, whole values, gradients, style reprs, warnings and errors on each rank."""
import pytest

from .launch import assert_same_results, results_beside_torch

pytest.importorskip("torch.distributed")


def test_tensor_parallel_matches_torch(tmp_path):
    ours, theirs = results_beside_torch("tensor_parallel.py", 2, tmp_path)
    assert_same_results(ours, theirs)
    # the parts really are shards: the colwise layer's rows differ between ranks
    assert ours[0]["mlp_sgd_layouts_after"]["w1.weight"][3] != ours[1]["mlp_sgd_layouts_after"]["w1.weight"][3]


def test_tensor_parallel_on_a_2d_mesh_matches_torch(tmp_path):
    """TP over mesh["tp"] of a 2 x 2 (dp, tp) mesh, with gradients averaged over mesh["dp"] by hand."""
    ours, theirs = results_beside_torch("tensor_parallel_2d.py", 4, tmp_path)
    assert_same_results(ours, theirs)
