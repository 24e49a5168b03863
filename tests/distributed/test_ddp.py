"""DistributedDataParallel on 2 and 4 ranks ends with the weights of single-process torch training on the union of each
step's batches, for several bucket layouts, with no_sync gradient accumulation, and with SyncBatchNorm (whose
running statistics must match BatchNorm's on the whole batch)."""
import importlib.util

import numpy as np
import pytest
import torch

from .launch import SCRIPTS, mpiexec, ok

spec = importlib.util.spec_from_file_location("problem", SCRIPTS / "problem.py")
problem = importlib.util.module_from_spec(spec)
spec.loader.exec_module(problem)


def torch_reference(micro, batchnorm=False):
    if batchnorm:
        model = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.BatchNorm1d(8), torch.nn.Tanh(),
                                    torch.nn.Linear(8, 3)).double()
        model.load_state_dict({k: torch.from_numpy(v) for k, v in problem.batchnorm_weights().items()})
    else:
        model = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
        model.load_state_dict({k: torch.from_numpy(v) for k, v in problem.initial_weights(0).items()})
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=0.01)
    for _ in range(2):
        for step in problem.batches(micro):
            opt.zero_grad()
            for x, y in step:
                torch.nn.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y)).backward()
            opt.step()
    return {k: v.numpy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("ranks", [2, 4])
def test_ddp_training_equals_single_process_torch(ranks, tmp_path):
    ok(mpiexec("ddp.py", ranks, tmp_path, timeout=120), ranks)
    expected = {1: torch_reference(1), problem.MICRO: torch_reference(problem.MICRO), "bn": torch_reference(1, True)}
    for run, micro in [("one_bucket", 1), ("bucket_per_param", 1), ("two_buckets", 1), ("bucket_view", 1),
                       ("no_sync", problem.MICRO), ("syncbn", "bn")]:
        got = np.load(tmp_path / f"{run}.npz")
        for name, value in expected[micro].items():
            np.testing.assert_allclose(got[name], value, rtol=0, atol=1e-6, err_msg=f"{run} {name}")
