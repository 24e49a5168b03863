"""A 2-D (dp x tp = 2 x 2) FSDP2-over-TP checkpoint loaded into a 1-D FSDP2 model, run on ember (under mpiexec) or
on torch (gloo): a colwise/rowwise MLP parallelized over mesh["tp"] and sharded over mesh["dp"] trains two AdamW
steps and saves its model and optimizer state dicts with dcp.save; a plain MLP sharded over all 4 ranks (another
initialisation, one step of its own for optimizer state) loads them, and both train one more step on the same
batch. Each rank records the whole parameters and optimizer states after saving and after loading, the loaded
placements, and both models' next losses and parameters; then the 2-D model's full state dict (get_model_state_dict)
set into another 2-D model, to OUT_DIR/<library>-<rank>.json.

    python fsdp2_tp_checkpoint.py ember|torch OUT_DIR
"""
import os
import sys

from _beside_torch import LIBRARY, finish, record, start, torch

if LIBRARY == "torch":
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict, set_model_state_dict
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module
else:
    import ember.distributed.checkpoint as dcp
    from ember.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict, set_model_state_dict
    from ember.distributed.device_mesh import init_device_mesh
    from ember.distributed.fsdp import fully_shard
    from ember.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module

nn = torch.nn
rank = start()
mesh_2d = init_device_mesh("cpu", (2, 2), mesh_dim_names=("dp", "tp"))
mesh_1d = init_device_mesh("cpu", (4,))
checkpoint = os.path.join(sys.argv[2], f"{LIBRARY}-checkpoint")


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.w1, self.w2 = nn.Linear(6, 8), nn.Linear(8, 6)

    def forward(self, x):
        return self.w2(torch.tanh(self.w1(x)))


def build(shift):
    model = MLP().double()
    with torch.no_grad():
        for i, param in enumerate(model.parameters()):
            values = torch.arange(param.numel(), dtype=torch.float64) * 0.41 + i + shift
            param.copy_(torch.sin(values).reshape(param.shape) / 3)
    return model


def shard(model, mesh):
    for layer in (model.w1, model.w2):
        fully_shard(layer, mesh=mesh)
    return fully_shard(model, mesh=mesh)


def step(model, optimizer, batch):
    loss = model(batch).pow(2).mean()
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return loss.item()


def whole(model, optimizer):
    params = [p.full_tensor().flatten().tolist() for p in model.parameters()]
    states = [[(k, v.full_tensor().flatten().tolist() if k != "step" else float(v))
               for k, v in sorted(optimizer.state[p].items())] for p in model.parameters()]
    return params, states


batch = torch.cos(torch.arange(8 * 6, dtype=torch.float64)).reshape(8, 6)
dp_rank = mesh_2d.get_local_rank("dp")
model = shard(parallelize_module(build(0), mesh_2d["tp"], {"w1": ColwiseParallel(), "w2": RowwiseParallel()}),
              mesh_2d["dp"])
optimizer = torch.optim.AdamW(model.parameters(), lr=0.05)
for _ in range(2):
    step(model, optimizer, batch[4 * dp_rank:4 * dp_rank + 4])
dcp.save({"model": model.state_dict(), "optim": optimizer.state_dict()}, checkpoint_id=checkpoint)
record("saved", lambda: whole(model, optimizer))
record("next_2d", lambda: step(model, optimizer, batch[4 * dp_rank:4 * dp_rank + 4]))
record("next_2d_params", lambda: whole(model, optimizer)[0])

flat = shard(build(1), mesh_1d)
flat_optimizer = torch.optim.AdamW(flat.parameters(), lr=0.05)
step(flat, flat_optimizer, batch[2 * rank:2 * rank + 2])   # gives the optimizer its state, which loading replaces
state = {"model": flat.state_dict(), "optim": flat_optimizer.state_dict()}
dcp.load(state, checkpoint_id=checkpoint)
flat.load_state_dict(state["model"])
flat_optimizer.load_state_dict(state["optim"])
record("loaded", lambda: whole(flat, flat_optimizer))
record("loaded_placements", lambda: [(k, str(v.placements), list(v.to_local().shape))
                                     for k, v in flat.state_dict().items()])
record("next_1d", lambda: step(flat, flat_optimizer, batch[2 * rank:2 * rank + 2]))
record("next_1d_params", lambda: whole(flat, flat_optimizer)[0])

# whole tensors out of the 2-D model and into another one (distributed to its _StridedShard parts)
full = StateDictOptions(full_state_dict=True)
whole_state = get_model_state_dict(model, options=full)
record("full_state_dict", lambda: {k: v.flatten().tolist() for k, v in whole_state.items()})
other = shard(parallelize_module(build(2), mesh_2d["tp"], {"w1": ColwiseParallel(), "w2": RowwiseParallel()}),
              mesh_2d["dp"])
set_model_state_dict(other, whole_state, options=full)
record("set_full", lambda: [(n, str(p.placements), p.to_local().flatten().tolist())
                            for n, p in other.named_parameters()])
finish(sys.argv[2])
