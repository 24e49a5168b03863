"""One program on FSDP2 (torch.distributed.fsdp.fully_shard), run on ember (under mpiexec) or on torch (gloo): a
small MLP sharded per layer and then at the root, trained a few steps with Adam or SGD (gradient clipping, a step
of gradient accumulation without sync), mixed precision in float64, explicit unshard/reshard; each rank records
the class names, placements, local shards, losses, gradients, state dict and the full parameters, as JSON in
OUT_DIR/<library>-<rank>.json, for the test to compare ember's with torch's (and with a one-process run).

    python fsdp2.py ember|torch OUT_DIR
"""
import sys

from _beside_torch import LIBRARY, finish, record, results, start_mesh, torch

if LIBRARY == "torch":
    from torch.distributed.checkpoint.state_dict import (StateDictOptions, get_model_state_dict, get_state_dict,
                                                         set_state_dict)
    from torch.distributed.fsdp import FSDPModule, MixedPrecisionPolicy, fully_shard
else:
    from ember.distributed.checkpoint.state_dict import (StateDictOptions, get_model_state_dict, get_state_dict,
                                                         set_state_dict)
    from ember.distributed.fsdp import FSDPModule, MixedPrecisionPolicy, fully_shard

nn = torch.nn
rank, world, mesh = start_mesh()


def build(dtype=torch.float32, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3)).to(dtype)


def describe(prefix, model):
    record(prefix + "classes", lambda: [type(m).__name__ for m in model.modules()])
    record(prefix + "is_fsdp", lambda: [isinstance(m, FSDPModule) for m in model.modules()])
    record(prefix + "params", lambda: [(n, type(p).__name__, isinstance(p, nn.Parameter), str(p.placements),
                                        list(p.shape), list(p.to_local().shape)) for n, p in model.named_parameters()])


def shards(model):
    return [p.to_local().flatten().tolist() for p in model.parameters()]


def grads(model):
    return [(str(p.grad.placements), p.grad.to_local().flatten().tolist()) for p in model.parameters()]


def full(model):
    return [p.full_tensor().flatten().tolist() for p in model.parameters()]


torch.manual_seed(1)
inputs, targets = torch.randn(12, 6), torch.randn(12, 3)
mine = slice(rank * 12 // world, (rank + 1) * 12 // world)
x, y = inputs[mine], targets[mine]


def train(name, make_optimizer, steps=3, dtype=torch.float32, **shard_args):
    model = build(dtype)
    for layer in (model[0], model[2]):
        fully_shard(layer, mesh=mesh, **shard_args)
    fully_shard(model, mesh=mesh, **shard_args)
    describe(name + "_", model)
    record(name + "_repr", lambda: repr(model))
    record(name + "_initial_shards", lambda: shards(model))
    optimizer = make_optimizer(model.parameters())
    losses, norms = [], []
    for step in range(steps):
        loss = nn.functional.mse_loss(model(x.to(dtype)), y.to(dtype))
        if step == 0:
            record(name + "_after_forward", lambda: [type(p).__name__ for p in model.parameters()])
        loss.backward()
        if step == 0:
            record(name + "_grads", lambda: grads(model))
        norm = nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        norms.append([type(norm).__name__, str(getattr(norm, "placements", None)), float(norm.full_tensor())])
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    results[name + "_losses"], results[name + "_norms"] = losses, norms
    record(name + "_optimizer_state", lambda: [[(k, type(v).__name__, str(getattr(v, "placements", None)))
                                                for k, v in sorted(optimizer.state[p].items())]
                                               for p in model.parameters()])
    record(name + "_shards", lambda: shards(model))
    record(name + "_full", lambda: full(model))
    return model, optimizer


model, optimizer = train("adam", lambda ps: torch.optim.Adam(ps, lr=0.05))
record("adam_state_dict", lambda: [(k, type(v).__name__, str(v.placements), v.full_tensor().flatten().tolist())
                                   for k, v in model.state_dict().items()])
train("sgd", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, foreach=False))
train("adamw_foreach", lambda ps: torch.optim.AdamW(ps, lr=0.05, foreach=True), steps=2,
      reshard_after_forward=False)
train("reshard_to_one", lambda ps: torch.optim.SGD(ps, lr=0.1), steps=1, reshard_after_forward=1)
train("float64", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.5, foreach=True), steps=2,
      mp_policy=MixedPrecisionPolicy(param_dtype=torch.float64, reduce_dtype=torch.float64))

# one group over two modules, then the root
model = build()
fully_shard([model[0], model[2]], mesh=mesh)
fully_shard(model, mesh=mesh)
describe("grouped_", model)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
nn.functional.mse_loss(model(x), y).backward()
record("grouped_grads", lambda: grads(model))
optimizer.step()
record("grouped_shards", lambda: shards(model))
record("grouped_after_step", lambda: nn.functional.mse_loss(model(x), y).item())

# PyTorch's recommended initialisation: build on the meta device, shard, materialise, then initialise the shards
with torch.device("meta"):
    model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3))
fully_shard(model[0], mesh=mesh)
fully_shard(model, mesh=mesh)
record("meta_params", lambda: [(str(p.device), list(p.to_local().shape)) for p in model.parameters()])
model.to_empty(device="cpu")
torch.manual_seed(3)
for layer in (model[0], model[2]):
    layer.reset_parameters()
record("materialised", lambda: [(str(p.device), str(p.placements)) for p in model.parameters()])
record("initialised_shards", lambda: shards(model))
record("initialised_loss", lambda: nn.functional.mse_loss(model(x), y[:, :3]).item())

# gradient accumulation: a first half-batch without sync, then a synchronized one
model = build()
fully_shard(model[0], mesh=mesh)
fully_shard(model, mesh=mesh)
model.set_requires_gradient_sync(False)
nn.functional.mse_loss(model(x[:2]), y[:2]).backward()
record("nosync_grads", lambda: [p.grad is None for p in model.parameters()])
model.set_requires_gradient_sync(True)
nn.functional.mse_loss(model(x[2:]), y[2:]).backward()
record("accumulated_grads", lambda: grads(model))

# explicit gathering
model.unshard()
record("unsharded", lambda: [(type(p).__name__, list(p.shape)) for p in model.parameters()])
model.reshard()
record("resharded", lambda: [type(p).__name__ for p in model.parameters()])
# torch.distributed.checkpoint.state_dict: whole state dicts gathered, and set into a model sharded the same way
model, optimizer = train("state_dict", lambda ps: torch.optim.Adam(ps, lr=0.05), steps=1)
whole = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
record("whole_on_rank0", lambda: [(k, type(v).__name__, v.flatten().tolist()) for k, v in whole.items()])
record("sharded_state", lambda: [(k, type(v).__name__, str(v.placements))
                                 for k, v in get_model_state_dict(model).items()])
model_state, optim_state = get_state_dict(model, optimizer, options=StateDictOptions(full_state_dict=True))
record("whole_optimizer_state", lambda: {fqn: {k: v.flatten().tolist() for k, v in sorted(state.items())}
                                         for fqn, state in optim_state["state"].items()})
fresh = build(seed=7)
fully_shard(fresh[0], mesh=mesh)
fully_shard(fresh, mesh=mesh)
fresh_optimizer = torch.optim.Adam(fresh.parameters(), lr=0.05)
set_state_dict(fresh, fresh_optimizer, model_state_dict=model_state, optim_state_dict=optim_state,
               options=StateDictOptions(full_state_dict=True))
record("set_shards", lambda: shards(fresh))
record("set_optimizer_state", lambda: [[(k, type(v).__name__, v.to_local().flatten().tolist() if k != "step"
                                         else float(v)) for k, v in sorted(fresh_optimizer.state[p].items())]
                                       for p in fresh.parameters()])
record("reshard_int", lambda: fully_shard(nn.Linear(2, 2), mesh=mesh, reshard_after_forward=world + 1))
record("container", lambda: fully_shard(nn.ModuleList([nn.Linear(2, 2)]), mesh=mesh))
finish(sys.argv[2])
