"""FSDP2 (torch.distributed.fsdp.fully_shard): one program (scripts/fsdp2.py) on 2 and 3 ranks (uneven shards: 5 and
7 rows over 2 and 3 ranks), run on ember under mpiexec and on torch's gloo backend, must give the same classes,
placements, local shards, gradients, losses, clipped norms, optimizer steps and state dicts on each rank; and the
whole parameters after training equal one process's PyTorch training on the whole batch."""
import pytest

from .launch import assert_same_results, results_beside_torch

pytest.importorskip("torch.distributed")


def _one_process(make_optimizer, steps):
    """The parameters after training the script's model on all the data in one PyTorch process."""
    import torch
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3))
    torch.manual_seed(1)
    inputs, targets = torch.randn(12, 6), torch.randn(12, 3)
    optimizer = make_optimizer(torch, model.parameters())
    for _ in range(steps):
        nn.functional.mse_loss(model(inputs), targets).backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimizer.step()
        optimizer.zero_grad()
    return [p.detach().flatten().tolist() for p in model.parameters()]


REFERENCES = {"adam": (lambda torch, ps: torch.optim.Adam(ps, lr=0.05), 3),
              "sgd": (lambda torch, ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9), 3),
              "adamw_foreach": (lambda torch, ps: torch.optim.AdamW(ps, lr=0.05), 2)}


@pytest.mark.parametrize("ranks", [2, 3])
def test_fully_shard_matches_torch(tmp_path, ranks):
    ours, theirs = results_beside_torch("fsdp2.py", ranks, tmp_path)
    assert_same_results(ours, theirs)
    assert ours[0]["adam_shards"][0] != ours[1]["adam_shards"][0]   # each rank holds its own rows
    for name, (make_optimizer, steps) in REFERENCES.items():
        expected = _one_process(make_optimizer, steps)
        for mine in ours:
            for got, want in zip(mine[name + "_full"], expected, strict=True):
                assert got == pytest.approx(want, rel=1e-4, abs=1e-5), name
