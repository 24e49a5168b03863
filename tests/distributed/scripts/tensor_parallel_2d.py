"""Tensor parallelism on a 2-D mesh (dp x tp = 2 x 2), run on ember (under mpiexec) or on torch (gloo): a
colwise/rowwise MLP parallelized over mesh["tp"], each dp group feeding its own batch, gradients averaged over
mesh["dp"] by hand (data parallel beside tensor parallel), trained a few SGD steps. Each rank records its losses
and its parameters' layouts, meshes, local parts and whole values to OUT_DIR/<library>-<rank>.json.

    python tensor_parallel_2d.py ember|torch OUT_DIR
"""
import sys

from _beside_torch import LIBRARY, dist, finish, record, start, torch

if LIBRARY == "torch":
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module
else:
    from ember.distributed.device_mesh import init_device_mesh
    from ember.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module

nn, F = torch.nn, torch.nn.functional
rank = start()
mesh = init_device_mesh("cpu", (2, 2), mesh_dim_names=("dp", "tp"))
dp_rank = mesh.get_local_rank("dp")


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.w1, self.w2 = nn.Linear(6, 8), nn.Linear(8, 6)

    def forward(self, x):
        return self.w2(torch.tanh(self.w1(x)))


model = MLP().double()
with torch.no_grad():
    for i, param in enumerate(model.parameters()):
        param.copy_(torch.sin(torch.arange(param.numel(), dtype=torch.float64) * 0.41 + i).reshape(param.shape) / 3)
parallelize_module(model, mesh["tp"], {"w1": ColwiseParallel(), "w2": RowwiseParallel()})
optimizer = torch.optim.SGD(model.parameters(), lr=0.3)
batch = torch.cos(torch.arange(4 * 6, dtype=torch.float64) * (dp_rank + 1)).reshape(4, 6)
dp_group = mesh["dp"].get_group()


def train(steps=3):
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = model(batch).pow(2).mean()
        loss.backward()
        for param in model.parameters():
            local = param.grad.to_local()
            dist.all_reduce(local, group=dp_group)
            local /= 2
        optimizer.step()
        losses.append(loss.item())
    return losses


record("losses", train)
record("layouts", lambda: {name: [str(p.placements), p.device_mesh.mesh.tolist(), p.to_local().tolist(),
                                  p.full_tensor().tolist()] for name, p in model.named_parameters()})
finish(sys.argv[2])
