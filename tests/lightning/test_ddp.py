"""Trainer(strategy="ddp", devices=2): two MPI ranks (started by mpiexec, or by the Trainer from one process) end with
the weights of single-process torch training on the union of the ranks' batches; sync_dist metrics are over all
samples; only rank 0 writes logs and checkpoints."""
import csv
import importlib.util
import json
import pathlib
import sys

import numpy as np
import pytest
import torch

from ..distributed.launch import MPIEXEC, require_mpi, run

SCRIPT = pathlib.Path(__file__).resolve().parent / "scripts" / "ddp_fit.py"
spec = importlib.util.spec_from_file_location("ddp_fit", SCRIPT)


def _script():
    module = importlib.util.module_from_spec(spec)
    sys.argv, argv = ["ddp_fit.py", "", ""], sys.argv
    try:
        spec.loader.exec_module(module)
    finally:
        sys.argv = argv
    return module


def torch_reference(problem):
    """Single-process torch: each optimizer step on the union of both ranks' two accumulated batches, the ranks'
    shares drawn by torch's DistributedSampler(shuffle=True, seed=0) as Lightning injects it."""
    x, y = (torch.from_numpy(a) for a in problem.data(0, 32))
    net = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
    net.load_state_dict({k[4:]: torch.from_numpy(v) for k, v in problem.initial_weights().items()})
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    samplers = [torch.utils.data.DistributedSampler(range(32), num_replicas=2, rank=r, shuffle=True, seed=0)
                for r in range(2)]
    for epoch in range(2):
        shares = []
        for sampler in samplers:
            sampler.set_epoch(epoch)
            shares.append(list(sampler))
        for step in range(2):
            batches = [share[(2 * step + micro) * 4:(2 * step + micro + 1) * 4] for share in shares for micro in (0, 1)]
            opt.zero_grad()
            loss = sum(torch.nn.functional.cross_entropy(net(x[b]), y[b]) for b in batches) / len(batches)
            loss.backward()
            opt.step()
    vx, vy = (torch.from_numpy(a) for a in problem.data(1, 10))
    with torch.no_grad():
        logits = net(vx)
        val = {"val_loss": float(torch.nn.functional.cross_entropy(logits, vy)), "val_max": float(logits.max())}
    return {"net." + k: v.detach().numpy() for k, v in net.state_dict().items()}, val


@pytest.mark.parametrize("mode", ["launched", "emberrun", "spawn"])
def test_ddp_fit_equals_single_process_torch_on_the_union_of_batches(mode, tmp_path):
    require_mpi()
    script = [str(SCRIPT), str(tmp_path), "spawn" if mode == "spawn" else "launched"]
    argv = {"launched": [str(MPIEXEC), "-n", "2", sys.executable, *script],
            "emberrun": [sys.executable, "-m", "ember.distributed.run", "--nproc-per-node", "2", *script],
            "spawn": [sys.executable, *script]}[mode]
    result = run(argv, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ("rank 1 of 2 ok" in result.stdout) == (mode != "spawn"), result.stdout
    assert "rank 0 of 2 ok" in result.stdout, result.stdout
    weights, val = torch_reference(_script())
    got = np.load(tmp_path / "weights.npz")
    for name, value in weights.items():
        np.testing.assert_allclose(got[name], value, rtol=0, atol=1e-10, err_msg=name)
    summary = json.loads((tmp_path / "result.json").read_text())
    assert summary["global_step"] == 4 and summary["world_size"] == 2
    for name, value in val.items():   # sync_dist: the batch-weighted mean (and max) over both ranks' samples
        assert summary["metrics"][name] == pytest.approx(value, abs=1e-12), name
    # trainer.test shards the loader too, and its sync_dist mean is over all the samples
    assert summary["test"] == [{"test_loss": pytest.approx(val["val_loss"], abs=1e-12)}]
    # rank 0 alone wrote: one logger version, one metrics.csv, the best checkpoint where rank 0 named it
    assert sorted(p.name for p in (tmp_path / "lightning_logs").iterdir()) == ["version_0"]
    with open(tmp_path / "lightning_logs" / "version_0" / "metrics.csv") as file:
        rows = list(csv.DictReader(file))
    assert [row["epoch"] for row in rows if row["val_loss"]] == ["0", "1"]
    assert float([row for row in rows if row["val_loss"]][-1]["val_loss"]) == pytest.approx(val["val_loss"], abs=1e-6)
    checkpoints = list((tmp_path / "lightning_logs" / "version_0" / "checkpoints").iterdir())
    assert [str(p) for p in checkpoints] == [summary["best"]]
    state = torch.load(summary["best"], weights_only=False)
    assert state["global_step"] == 4
    for name, value in weights.items():
        np.testing.assert_allclose(state["state_dict"][name].numpy(), value, rtol=0, atol=1e-10)


def test_devices_must_match_the_launched_world(tmp_path):
    import ember.lightning as pl
    with pytest.raises(ValueError, match="invalid strategy name"):
        pl.Trainer(strategy="horovod", logger=False)
    trainer = pl.Trainer(strategy="ddp", devices=3, num_nodes=2, logger=False)
    assert trainer.world_size == 6 and trainer.num_devices == 3 and trainer.global_rank == 0
    assert trainer.is_global_zero and trainer.distributed_sampler_kwargs == {"num_replicas": 6, "rank": 0}
    assert pl.Trainer(devices=1, logger=False).distributed_sampler_kwargs is None
