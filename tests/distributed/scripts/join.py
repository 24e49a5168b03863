"""One 2-rank program on training with uneven inputs, run on ember (under mpiexec) or on torch (gloo, ranks started
by the test with RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT): rank 0 has fewer batches than rank 1; inside
``model.join()`` or ``Join([model, zero])`` the weights after training (buffers from a BatchNorm, division by the
initial or the active world size, ZeroRedundancyOptimizer), early termination's errors and the joinables' checks.
Each rank writes its results as JSON to OUT_DIR/<library>-<rank>.json, for the test to compare ember's with torch's.

    python join.py ember|torch OUT_DIR
"""
import sys

from _beside_torch import LIBRARY, finish, record, results, start, torch

if LIBRARY == "torch":
    from torch.distributed.algorithms.join import Join
    from torch.distributed.optim import ZeroRedundancyOptimizer
else:
    from ember.distributed.algorithms.join import Join
    from ember.distributed.optim import ZeroRedundancyOptimizer


def model(batchnorm=False):
    torch.manual_seed(0)
    layers = [torch.nn.Linear(4, 6)] + ([torch.nn.BatchNorm1d(6)] if batchnorm else []) + \
        [torch.nn.Tanh(), torch.nn.Linear(6, 2)]
    return torch.nn.parallel.DistributedDataParallel(torch.nn.Sequential(*layers))


def batches():
    return [torch.randn(5, 4, generator=torch.Generator().manual_seed(100 * rank + i)) for i in range(3 + 2 * rank)]


def train(name, ddp, optimizer, context):
    with context:
        for x in batches():
            optimizer.zero_grad()
            ddp(x).square().sum().backward()
            optimizer.step()
    results[name] = [t.tolist() for t in ddp.module.state_dict().values()]


rank = start()

ddp = model()
train("join", ddp, torch.optim.SGD(ddp.parameters(), lr=0.1), ddp.join())
ddp = model()
train("join_active_divisor", ddp, torch.optim.SGD(ddp.parameters(), lr=0.1),
      ddp.join(divide_by_initial_world_size=False))
ddp = model(batchnorm=True)
train("join_batchnorm", ddp, torch.optim.SGD(ddp.parameters(), lr=0.1), ddp.join())
ddp = model()
zero = ZeroRedundancyOptimizer(ddp.parameters(), torch.optim.Adam, lr=0.01)
train("join_zero", ddp, zero, Join([ddp, zero]))

ddp = model()
optimizer = torch.optim.SGD(ddp.parameters(), lr=0.1)
record("early_termination", lambda: train("early_termination_weights", ddp, optimizer,
                                          ddp.join(throw_on_early_termination=True)))
record("no_joinables", lambda: Join([]))

finish(sys.argv[2])
