"""One 2-rank program on ZeroRedundancyOptimizer, run on ember (under mpiexec) or on torch (gloo, ranks started by the
test with RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT): which parameters each rank's local optimizer holds, the weights
after DistributedDataParallel steps with Adam and SGD (parameter groups, a scheduler changing the learning rate,
parameters as bucket views), the consolidated state_dict, loading it back, add_param_group and the errors. Each rank
writes its results as JSON to OUT_DIR/<library>-<rank>.json, for the test to compare ember's with torch's.

    python zero.py ember|torch OUT_DIR
"""
import sys

from _beside_torch import LIBRARY, dist, finish, record, results, start, torch

if LIBRARY == "torch":
    from torch.distributed.optim import ZeroRedundancyOptimizer
else:
    from ember.distributed.optim import ZeroRedundancyOptimizer


def plain(value):
    """JSON-able form of a state_dict's values."""
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def train(name, optimizer_class, groups=False, steps=3, **options):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 4), torch.nn.Tanh(),
                              torch.nn.Linear(4, 2))
    ddp = torch.nn.parallel.DistributedDataParallel(net)
    params = [{"params": net[0].parameters(), "lr": 0.05}, {"params": list(net[2].parameters()) +
                                                            list(net[4].parameters())}] if groups else net.parameters()
    zero = ZeroRedundancyOptimizer(params, optimizer_class, **options)
    results[f"{name}_local_shapes"] = [[list(p.shape) for p in g["params"]] for g in zero.optim.param_groups]
    scheduler = torch.optim.lr_scheduler.StepLR(zero, step_size=1, gamma=0.5)
    for step in range(steps):
        zero.zero_grad()
        torch.manual_seed(30 + 2 * step + rank)
        ddp(torch.randn(7, 6)).square().sum().backward()
        zero.step()
        scheduler.step()
    results[f"{name}_weights"] = [p.tolist() for p in net.parameters()]
    results[f"{name}_lrs"] = [g["lr"] for g in zero.param_groups]
    return net, zero


rank = start()

net, zero = train("adam", torch.optim.Adam, lr=0.01)
record("state_dict_unconsolidated", zero.state_dict)
zero.consolidate_state_dict(to=0)
if rank == 0:
    full = zero.state_dict()
    results["adam_state_dict"] = plain(full)
    record("state_dict_other_rank", lambda: None)
else:
    record("state_dict_other_rank", zero.state_dict)
train("sgd_groups", torch.optim.SGD, groups=True, lr=0.1, momentum=0.9)
train("bucket_view", torch.optim.SGD, lr=0.1, momentum=0.9, parameters_as_bucket_view=True)

# loading: rank 0's consolidated state goes to every rank, then two more steps
state = [full if rank == 0 else None]
dist.broadcast_object_list(state, src=0)
net2, zero2 = train("adam_reloaded", torch.optim.Adam, steps=0, lr=0.01)
with torch.no_grad():
    for mine, theirs in zip(net2.parameters(), net.parameters()):
        mine.copy_(theirs)
zero2.load_state_dict(state[0])
results["loaded_local_state_steps"] = sorted(plain(s["step"]) for s in zero2.optim.state.values())
ddp2 = torch.nn.parallel.DistributedDataParallel(net2)
for step in range(2):
    zero2.zero_grad()
    torch.manual_seed(50 + step + rank)
    ddp2(torch.randn(7, 6)).square().sum().backward()
    zero2.step()
results["adam_reloaded_weights"] = [p.tolist() for p in net2.parameters()]

extra = torch.nn.Linear(3, 3)
zero2.add_param_group({"params": extra.parameters(), "lr": 0.2})
results["added_local_shapes"] = [[list(p.shape) for p in g["params"]] for g in zero2.optim.param_groups]

record("tensor_params", lambda: ZeroRedundancyOptimizer(torch.ones(2), torch.optim.SGD, lr=0.1))
record("empty_params", lambda: ZeroRedundancyOptimizer([], torch.optim.SGD, lr=0.1))
record("mixed_params", lambda: ZeroRedundancyOptimizer([torch.ones(2), {"params": []}], torch.optim.SGD, lr=0.1))
record("mixed_types", lambda: ZeroRedundancyOptimizer([torch.ones(2), torch.ones(2, dtype=torch.float64)],
                                                      torch.optim.SGD, lr=0.1))

finish(sys.argv[2])
