"""FullyShardedDataParallel: one program (scripts/fsdp.py) on 2 and 3 ranks, run on ember under mpiexec and on
torch's gloo backend (which runs FSDP on CPU with device_id=cpu), must give the same results on each rank: the
printed module, parameter names and shard shapes, losses, gradients and shards under FULL_SHARD, SHARD_GRAD_OP and
NO_SHARD with each wrap policy and use_orig_params both ways, no_sync, clip_grad_norm_, mixed precision,
summon_full_params, full state dicts (rank0_only, loading), optimizer state dicts and the errors and warnings."""
import pytest

from .launch import assert_same_results, results_beside_torch

pytest.importorskip("torch.distributed")


@pytest.mark.parametrize("ranks", [2, 3])
def test_fsdp_matches_torch(tmp_path, ranks):
    ours, theirs = results_beside_torch("fsdp.py", ranks, tmp_path)
    assert_same_results(ours, theirs)
    # the parameters really are split: each rank holds a different part of the first unit
    assert ours[0]["full_params"][0][1] != ours[1]["full_params"][0][1]
