"""DistributedDataParallel training runs; rank 0 saves the final weights of each to the directory in argv[1]."""
import pathlib
import sys

import numpy as np

import ember
import ember.distributed as dist
from ember import nn
from ember.nn.parallel import DistributedDataParallel as DDP

from problem import MICRO, batches, batchnorm_weights, initial_weights

out = pathlib.Path(sys.argv[1])
dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
local = slice(rank * 8 // world, (rank + 1) * 8 // world)


def model(batchnorm=False):
    if batchnorm:   # SyncBatchNorm: statistics of the whole batch across ranks
        m = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 3)).double()
        m.load_state_dict({k: ember.from_numpy(v) for k, v in batchnorm_weights().items()})
        return nn.SyncBatchNorm.convert_sync_batchnorm(m)
    m = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    weights = initial_weights(seed=0 if rank == 0 else 100 + rank)   # DDP must broadcast rank 0's
    m.load_state_dict({k: ember.from_numpy(v) for k, v in weights.items()})
    return m


def same_on_every_rank(m):
    for name, p in m.named_parameters():
        everyone = [None] * world
        dist.all_gather_object(everyone, p.detach().numpy().copy())
        assert all(np.array_equal(everyone[0], e) for e in everyone), name


def train(name, micro=1, batchnorm=False, **ddp_args):
    ddp = DDP(model(batchnorm), **ddp_args)
    same_on_every_rank(ddp)
    opt = ember.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9, weight_decay=0.01)
    for _ in range(2):   # epochs
        for step in batches(micro):
            opt.zero_grad()
            for i, (x, y) in enumerate(step):
                x, y = ember.from_numpy(x[local]), ember.from_numpy(y[local])
                if i < len(step) - 1:
                    with ddp.no_sync():
                        nn.functional.cross_entropy(ddp(x), y).backward()
                else:
                    nn.functional.cross_entropy(ddp(x), y).backward()
            opt.step()
    same_on_every_rank(ddp)
    if rank == 0:
        np.savez(out / f"{name}.npz", **{k: v.numpy() for k, v in ddp.module.state_dict().items()})
    return ddp


ddp = train("one_bucket")
assert list(ddp.state_dict()) == ["module." + k for k in ddp.module.state_dict()]
assert len(ddp._buckets) == 1
ddp = train("bucket_per_param", bucket_cap_mb=1e-6)
# rebuilt after the first backward in the order gradients came: the last layer's first
assert len(ddp._buckets) == 4 and any(ddp._buckets[0].params[0] is p for p in ddp.module[2].parameters())
train("two_buckets", bucket_cap_mb=300 / 2**20)

# overlap: when backward reaches the first layer's output, the last layer's buckets are already communicating
ddp = DDP(model(), bucket_cap_mb=1e-6)
seen = []


def watch(module, args, out):
    out.register_hook(lambda g: seen.append([b.work is not None for b in ddp._buckets]))


ddp.module[0].register_forward_hook(watch)
for _ in range(2):   # the first backward reduces one bucket of all gradients, as PyTorch's; then they are rebuilt
    nn.functional.cross_entropy(ddp(ember.randn(4, 5, dtype=ember.float64)), ember.tensor([0, 1, 2, 0])).backward()
assert seen == [[False], [True, True, False, False]], seen   # rebuilt: the last layer's two, then the first's
train("no_sync", micro=MICRO, bucket_cap_mb=300 / 2**20)
train("bucket_view", gradient_as_bucket_view=True, bucket_cap_mb=300 / 2**20)
ddp = train("syncbn", batchnorm=True)
assert isinstance(ddp.module[1], nn.SyncBatchNorm)


# find_unused_parameters: rank 0 alone uses `extra`; `never` is used by no rank
class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.body, self.extra, self.never = nn.Linear(3, 2).double(), nn.Linear(2, 2).double(), nn.Linear(2, 2).double()

    def forward(self, x, use_extra):
        h = self.body(x)
        return self.extra(h) if use_extra else h


ember.manual_seed(0)
net = DDP(Branchy(), find_unused_parameters=True, bucket_cap_mb=1e-6)
x = ember.from_numpy(np.random.default_rng(rank).normal(size=(4, 3)))
net(x, rank == 0).pow(2).sum().backward()
local_grads = {}
if rank == 0:
    reference = Branchy()
    reference.load_state_dict(net.module.state_dict())
    reference(x, True).pow(2).sum().backward()
    local_grads = {n: p.grad for n, p in reference.named_parameters() if n.startswith("extra")}
box = [local_grads]
dist.broadcast_object_list(box, src=0)
for n, p in net.module.named_parameters():
    if n.startswith("extra"):   # used on rank 0 only: its gradient averaged with zeros from the others
        assert np.allclose(p.grad.numpy(), box[0][n].numpy() / world), n
    if n.startswith("never"):
        assert p.grad is None, n

# without find_unused_parameters an unused parameter is reported at the next forward, as in torch
strict = DDP(Branchy())
strict(x, False).sum().backward()
try:
    strict(x, False)
    raise AssertionError("expected the unfinished-reduction error")
except RuntimeError as error:
    assert "find_unused_parameters=True" in str(error)
print(f"rank {rank} ok", flush=True)
