"""FullyShardedDataParallel (FSDP1) frees a FULL_SHARD unit's gathered parameters after its forward: one program
(scripts/fsdp_memory.py) trains four Linear units on 2 ranks on ember under mpiexec and on torch's gloo; losses and
gradients must be torch's on every rank, and ember's live bytes (tracemalloc) after the forward must hold no layer's
whole parameters with FULL_SHARD (flat or use_orig_params) while SHARD_GRAD_OP keeps all four until backward."""
import pytest

from .launch import assert_same_results, results_beside_torch

pytest.importorskip("torch.distributed")


def test_full_shard_frees_gathered_parameters_after_forward(tmp_path):
    ours, theirs = results_beside_torch("fsdp_memory.py", 2, tmp_path)
    memories = [{k[6:]: mine.pop(k) for k in list(mine) if k.startswith("ember_")} for mine in ours]
    assert_same_results(ours, theirs)
    for memory in memories:
        kept = memory["grad_op"]
        layer = kept["layer"]
        assert kept["after_forward"] > 4 * layer   # the measure sees the four layers kept whole
        for name in ("full_shard", "orig_params"):
            freed = memory[name]
            assert freed["after_forward"] < layer / 2   # activations only
            assert freed["backward_peak"] < kept["backward_peak"] - layer
