"""One program on FSDP2's HSDP (fully_shard on a 2-D DeviceMesh: replicated over the first dimension, sharded over
the second), run on 4 ranks on ember (under mpiexec) or on torch (gloo): a small MLP sharded per layer and at the
root, trained with Adam and gradient clipping, then a step whose gradients skip the all-reduce across replicas
(set_requires_all_reduce(False)) before one that adds them in; each rank records placements, local shards,
gradients, losses, norms and the whole parameters as JSON in OUT_DIR/<library>-<rank>.json.

    python fsdp2_hsdp.py ember|torch OUT_DIR
"""
import sys

from _beside_torch import LIBRARY, finish, record, results, start_mesh, torch

if LIBRARY == "torch":
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
else:
    from ember.distributed.device_mesh import init_device_mesh
    from ember.distributed.fsdp import fully_shard

nn = torch.nn
rank, world, mesh = start_mesh(2, ("replicate", "shard"))


def build():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3))


def shard(model, **options):
    for layer in (model[0], model[2]):
        fully_shard(layer, mesh=mesh, **options)
    fully_shard(model, mesh=mesh, **options)
    return model


torch.manual_seed(1)
inputs, targets = torch.randn(12, 6), torch.randn(12, 3)
mine = slice(rank * 12 // world, (rank + 1) * 12 // world)
x, y = inputs[mine], targets[mine]


def grads(model):
    return [(str(p.grad.placements), p.grad.to_local().flatten().tolist()) for p in model.parameters()]


model = shard(build())
record("params", lambda: [(n, str(p.placements), list(p.shape), list(p.to_local().shape), str(p.device_mesh))
                          for n, p in model.named_parameters()])
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
losses, norms = [], []
for step in range(3):
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    if step == 0:
        record("grads", lambda: grads(model))
    norms.append(float(nn.utils.clip_grad_norm_(model.parameters(), 0.5).full_tensor()))
    optimizer.step()
    optimizer.zero_grad()
    losses.append(loss.item())
results["losses"], results["norms"] = losses, norms
record("shards", lambda: [p.to_local().flatten().tolist() for p in model.parameters()])
record("full", lambda: [p.full_tensor().flatten().tolist() for p in model.parameters()])
record("state_dict", lambda: [(k, str(v.placements), v.full_tensor().flatten().tolist())
                              for k, v in model.state_dict().items()])

# gradient accumulation across replicas: the first half-batch reduce-scattered only, the second all-reduced too
model = shard(build(), reshard_after_forward=False)
model.set_requires_all_reduce(False)
nn.functional.mse_loss(model(x[:1]), y[:1]).backward()
record("partial_grads", lambda: [p.grad is None for p in model.parameters()])
model.set_requires_all_reduce(True)
nn.functional.mse_loss(model(x[1:]), y[1:]).backward()
record("accumulated_grads", lambda: grads(model))
record("flat_mesh", lambda: fully_shard(nn.Linear(2, 2), mesh=init_device_mesh("cpu", (2, world // 2))))
finish(sys.argv[2])
