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


def _checkpointed(lib, checkpoint_wrapper):
    lib.manual_seed(0)
    seq = lib.nn.Sequential(lib.nn.Linear(6, 5), lib.nn.Tanh(), lib.nn.Linear(5, 2))
    checkpoint_wrapper.apply_activation_checkpointing(
        seq, check_fn=lambda m: isinstance(m, lib.nn.Linear),
        checkpoint_wrapper_fn=lambda m: checkpoint_wrapper.checkpoint_wrapper(
            m, checkpoint_impl=checkpoint_wrapper.CheckpointImpl.REENTRANT))
    x = lib.randn(3, 6, requires_grad=True)   # (the reentrant scheme needs an input that requires grad)
    seq(x).square().sum().backward()
    state = seq.state_dict()
    incompatible = seq.load_state_dict(state)
    grads = [(n, p.grad.flatten().tolist()) for n, p in seq.named_parameters()]
    return repr(seq), grads, list(state), str(incompatible), type(seq[0]).__name__, seq[0].in_features


def test_checkpoint_wrapper_matches_torch():
    """apply_activation_checkpointing wraps the picked submodules; names, state dicts and gradients are the plain
    module's."""
    import torch
    from torch.distributed.algorithms._checkpoint import checkpoint_wrapper as theirs

    import ember
    from ember.distributed.algorithms._checkpoint import checkpoint_wrapper as ours
    mine, torchs = _checkpointed(ember, ours), _checkpointed(torch, theirs)
    assert mine[0] == torchs[0] and mine[2:] == torchs[2:]
    assert [n for n, _ in mine[1]] == [n for n, _ in torchs[1]]
    for (_, a), (_, b) in zip(mine[1], torchs[1]):
        assert a == pytest.approx(b, rel=1e-5, abs=1e-6)
