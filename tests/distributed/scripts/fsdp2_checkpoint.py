"""FSDP2 with torch.distributed.checkpoint on ember: ``save`` trains a fully_shard model two steps with Adam on this
job's ranks and saves its model and optimizer state dicts (DTensors: each rank writes its shards) with dcp.save,
then trains one more step; ``load`` builds the model with another initialisation on a job of another size, loads
the checkpoint (resharded to this job's shards) and trains the same step. Rank 0 writes the whole parameters and
optimizer state after loading (or saving) and after the extra step as JSON to OUT_DIR/<mode>.json.

    mpiexec -n N python fsdp2_checkpoint.py save|load OUT_DIR
"""
import json
import os
import sys

import ember as torch
import ember.distributed as dist
import ember.distributed.checkpoint as dcp
from ember.distributed.device_mesh import init_device_mesh
from ember.distributed.fsdp import fully_shard

mode, out_dir = sys.argv[1], sys.argv[2]
dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
mesh = init_device_mesh("cpu", (world,))
nn = torch.nn

torch.manual_seed(0 if mode == "save" else 5)
model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3))
for layer in (model[0], model[2]):
    fully_shard(layer, mesh=mesh)
fully_shard(model, mesh=mesh)
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
torch.manual_seed(1)
inputs, targets = torch.randn(12, 6), torch.randn(12, 3)
mine = slice(rank * 12 // world, (rank + 1) * 12 // world)


def train(steps):
    for _ in range(steps):
        nn.functional.mse_loss(model(inputs[mine]), targets[mine]).backward()
        optimizer.step()
        optimizer.zero_grad()


def whole():
    params = [p.full_tensor().flatten().tolist() for p in model.parameters()]
    states = [[(k, type(v).__name__, v.full_tensor().flatten().tolist() if k != "step" else float(v))
               for k, v in sorted(optimizer.state[p].items())] for p in model.parameters()]
    return params, states


checkpoint = os.path.join(out_dir, "checkpoint")
if mode == "save":
    train(2)
    dcp.save({"model": model.state_dict(), "optim": optimizer.state_dict()}, checkpoint_id=checkpoint)
else:
    train(1)   # gives the optimizer its state, which loading then replaces
    state = {"model": model.state_dict(), "optim": optimizer.state_dict()}
    dcp.load(state, checkpoint_id=checkpoint)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optim"])
found = {"checkpointed": whole(), "types": [type(v).__name__ for v in model.state_dict().values()]}
train(1)
found["next_step"] = whole()
if rank == 0:
    with open(os.path.join(out_dir, f"{mode}.json"), "w") as file:
        json.dump(found, file)
dist.barrier()
dist.destroy_process_group()
print(f"rank {rank} ok")
