"""Training with uneven inputs (``Join``, ``DistributedDataParallel.join``, ZeroRedundancyOptimizer as a joinable):
one program on 2 ranks with different numbers of batches, run on ember under mpiexec and on torch's gloo backend,
must give the same weights, buffers and errors on each rank (to float tolerance)."""
import pytest

from .launch import assert_same_results, results_beside_torch

pytest.importorskip("torch.distributed")


def test_uneven_inputs_train_as_torchs(tmp_path):
    ours, theirs = results_beside_torch("join.py", 2, tmp_path)
    assert_same_results(ours, theirs)
    assert ours[0]["join"] == ours[1]["join"]   # the replicas end equal
