"""FSDP2 over tensor parallelism: one program (scripts/fsdp2_tp.py) on 4 ranks as a (dp, tp) = (2, 2) mesh,
parallelize_module over tp then fully_shard over dp, run on ember under mpiexec and on torch's gloo, must give the
same placements (a _StridedShard where both shard dimension 0), local parts, gradients, losses, whole parameters and
state dicts on every rank, for an MLP (SGD, AdamW, and sizes that split unevenly) and two small Transformer blocks
(AdamW; also sequence parallel, whose norms' gradients are Partial over tp); and the MLP's whole
parameters equal one process's PyTorch training on both dp groups' batches. A 2-D checkpoint (dcp.save) loads into
a 1-D FSDP2 model as on torch (scripts/fsdp2_tp_checkpoint.py). examples/tensor_parallel_lm.py --dp 2 on 4 ranks
prints the losses of torch's one-process run."""
import math

import pytest

from .launch import assert_same_results, example_losses_beside_torch, results_beside_torch

pytest.importorskip("torch.distributed")


def _one_process(make_optimizer, steps=3):
    import torch
    model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 6)).double()
    with torch.no_grad():
        for i, param in enumerate(model.parameters()):
            values = torch.arange(param.numel(), dtype=torch.float64) * 0.41 + i
            param.copy_(torch.sin(values).reshape(param.shape) / 3)
    batch = torch.cat([torch.cos(torch.arange(24, dtype=torch.float64) * (r + 1)).reshape(4, 6) for r in (0, 1)])
    optimizer = make_optimizer(model.parameters())
    for _ in range(steps):
        model(batch).pow(2).mean().backward()
        optimizer.step()
        optimizer.zero_grad()
    return [p.detach().flatten().tolist() for p in model.parameters()]


def test_fsdp_over_tensor_parallel_matches_torch(tmp_path):
    ours, theirs = results_beside_torch("fsdp2_tp.py", 4, tmp_path)
    assert_same_results(ours, theirs)
    import torch
    for name, make_optimizer in (("mlp_sgd", lambda p: torch.optim.SGD(p, lr=0.3)),
                                 ("mlp_adamw", lambda p: torch.optim.AdamW(p, lr=0.05))):
        expected = _one_process(make_optimizer)
        for mine in ours:
            for got, want in zip(mine[f"{name}_full"], expected, strict=True):
                assert got == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_2d_checkpoint_loads_into_1d_fsdp_as_torch(tmp_path):
    """dcp.save of the 2-D model's and optimizer's state dicts (_StridedShard parts) loads into a 1-D FSDP model."""
    ours, theirs = results_beside_torch("fsdp2_tp_checkpoint.py", 4, tmp_path)
    assert_same_results(ours, theirs)
    for mine in ours:
        assert mine["loaded"] == mine["saved"]
        for got, want in zip(mine["next_1d_params"], mine["next_2d_params"], strict=True):
            assert got == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_2d_example_trains_as_torch_in_one_process(tmp_path):
    """examples/tensor_parallel_lm.py with --dp 2 (FSDP over dp, TP over tp) on 4 ranks: one process's losses."""
    ours, theirs = example_losses_beside_torch("tensor_parallel_lm.py", 4, "--dp", 2, "--steps", 10, tmp_path=tmp_path)
    assert len(ours) == len(theirs) == 3
    assert all(math.isclose(a, b, rel_tol=1e-5) for a, b in zip(ours, theirs)), (ours, theirs)
