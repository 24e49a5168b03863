"""FSDP2's HSDP: one program (scripts/fsdp2_hsdp.py) on 4 ranks as a 2x2 mesh (replicate, shard), run on ember under
mpiexec and on torch's gloo, must give the same placements, shards, gradients (reduce-scattered within a replica,
all-reduced across replicas, also after a step that skipped the all-reduce), losses, norms and state dicts on every
rank; and the whole parameters equal one process's PyTorch training on the whole batch."""
import pytest

from .launch import assert_same_results, results_beside_torch

pytest.importorskip("torch.distributed")


def _one_process(steps=3):
    import torch
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3))
    torch.manual_seed(1)
    inputs, targets = torch.randn(12, 6), torch.randn(12, 3)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(steps):
        nn.functional.mse_loss(model(inputs), targets).backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimizer.step()
        optimizer.zero_grad()
    return [p.detach().flatten().tolist() for p in model.parameters()]


def test_hybrid_sharding_matches_torch(tmp_path):
    ours, theirs = results_beside_torch("fsdp2_hsdp.py", 4, tmp_path)
    assert_same_results(ours, theirs)
    assert ours[0]["shards"] == ours[2]["shards"] != ours[1]["shards"]   # replicas hold the same shards
    expected = _one_process()
    for mine in ours:
        for got, want in zip(mine["full"], expected, strict=True):
            assert got == pytest.approx(want, rel=1e-4, abs=1e-5)
