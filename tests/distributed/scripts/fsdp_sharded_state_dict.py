"""FullyShardedDataParallel's SHARDED_STATE_DICT (DTensors given a DeviceMesh, else ShardedTensors) and
LOCAL_STATE_DICT (the flat shards as ShardedTensors), run on ember (under mpiexec) or on torch (gloo). ``save``
trains an FSDP model (a unit per Linear) two steps and saves each form's state dict (with the Adam state, sharded
alike, for the sharded forms) with DCP under CHECKPOINT; ``load`` builds the model with another initialisation on a
job of another size, loads CHECKPOINT (written by either library) through the same form and trains one step. Each
rank records each form's layout (types, placements, shards and their metadata), the whole parameters and the
losses, and the errors of LOCAL_STATE_DICT with a mesh and of NO_SHARD, as JSON in OUT_DIR/<library>-<rank>.json.

    python fsdp_sharded_state_dict.py ember|torch OUT_DIR save|load CHECKPOINT
"""
import sys
import warnings

from _beside_torch import LIBRARY, finish, record, results, start, torch

if LIBRARY == "torch":
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict
    from torch.distributed import fsdp
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import wrap
else:
    import ember.distributed.checkpoint as dcp
    from ember.distributed.checkpoint.state_dict import get_state_dict, set_state_dict
    from ember.distributed import fsdp
    from ember.distributed.device_mesh import init_device_mesh
    from ember.distributed.fsdp import wrap

warnings.simplefilter("ignore", FutureWarning)   # FSDP.state_dict_type's deprecation
FSDP = fsdp.FullyShardedDataParallel
SHARDED = fsdp.StateDictType.SHARDED_STATE_DICT
nn = torch.nn
mode, checkpoint = sys.argv[3], sys.argv[4]
rank = start()
mesh = init_device_mesh("cpu", (torch.distributed.get_world_size(),))


def build(seed, with_mesh=True, **options):
    torch.manual_seed(seed)
    module = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 2))
    return FSDP(module, device_id=torch.device("cpu"), device_mesh=mesh if with_mesh else None,
                auto_wrap_policy=wrap.ModuleWrapPolicy({nn.Linear}), **options)


def step(model, optimizer, seed):
    torch.manual_seed(seed + rank)
    loss = model(torch.randn(3, 6)).square().sum()
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return loss.item()


def whole(model):
    with FSDP.summon_full_params(model):
        return [[n, p.detach().flatten().tolist()] for n, p in model.named_parameters()]


def layout(value):
    if hasattr(value, "placements"):
        return [type(value).__name__, str(value.placements), list(value.to_local().shape)]
    return [type(value).__name__, list(value.size()), str(value.dtype),
            [[s.metadata.shard_offsets, s.metadata.shard_sizes, s.tensor.flatten().tolist()]
             for s in value.local_shards()],
            [[m.shard_offsets, m.shard_sizes] for m in value.metadata().shards_metadata]]


# SHARDED_STATE_DICT with a mesh (DTensors) and without (ShardedTensors); LOCAL_STATE_DICT (flat ShardedTensors)
for form, kind, with_mesh in (("dtensor", SHARDED, True), ("sharded", SHARDED, False),
                              ("local", fsdp.StateDictType.LOCAL_STATE_DICT, False)):
    model = build(0 if mode == "save" else 5, with_mesh)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05) if form != "local" else \
        torch.optim.SGD(model.parameters(), lr=0.1)
    losses = [step(model, optimizer, 10)] + ([step(model, optimizer, 20)] if mode == "save" else [])
    results[form + "_losses"] = losses
    with FSDP.state_dict_type(model, kind):
        state = {"model": model.state_dict()}
        if form != "local":   # the optimizer's states sharded as the parameters (DCP given the states alone: torch
            optim = FSDP.optim_state_dict(model, optimizer)   # fails to load its own param_groups on 3 ranks)
            state["optim"] = optim["state"]
            results[form + "_optim_layout"] = [[fqn, k] + (layout(v) if k != "step" else [float(v)])
                                               for fqn, states in optim["state"].items()
                                               for k, v in sorted(states.items())]
        results[form + "_layout"] = [[k] + layout(v) for k, v in state["model"].items()]
        if mode == "save":
            dcp.save(state, checkpoint_id=f"{checkpoint}/{form}")
        else:
            with torch.no_grad():   # (torch: LOCAL's values are views of the flat parameter made under no_grad)
                dcp.load(state, checkpoint_id=f"{checkpoint}/{form}")
            model.load_state_dict(state["model"])
            if form != "local":
                optim = {**optim, "state": state["optim"]}
                optimizer.load_state_dict(FSDP.optim_state_dict_to_load(model, optimizer, optim))
    results[form + "_whole"] = whole(model)
    results[form + "_next_loss"] = step(model, optimizer, 30)

# DCP's get_state_dict/set_state_dict with the default options: FSDP1's sharded state dicts (ShardedTensors here)
model = build(0 if mode == "save" else 5, with_mesh=False)
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
results["api_losses"] = [step(model, optimizer, 10)] + ([step(model, optimizer, 20)] if mode == "save" else [])
model_state, optim_state = get_state_dict(model, optimizer)
results["api_layout"] = [[k] + layout(v) for k, v in model_state.items()]
if mode == "save":
    dcp.save({"model": model_state, "optim": optim_state["state"]}, checkpoint_id=f"{checkpoint}/api")
else:
    state = {"model": model_state, "optim": optim_state["state"]}
    dcp.load(state, checkpoint_id=f"{checkpoint}/api")
    set_state_dict(model, optimizer, model_state_dict=state["model"],
                   optim_state_dict={**optim_state, "state": state["optim"]})
results["api_whole"] = whole(model)
results["api_next_loss"] = step(model, optimizer, 30)

model = build(0)
with FSDP.state_dict_type(model, fsdp.StateDictType.LOCAL_STATE_DICT):
    record("local_with_mesh", model.state_dict)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    unsharded = build(0, sharding_strategy=fsdp.ShardingStrategy.NO_SHARD)
    with FSDP.state_dict_type(unsharded, SHARDED):
        results["no_shard"] = [[k, type(v).__name__] for k, v in unsharded.state_dict().items()]
results["no_shard_warned"] = any("full_state_dict will" in str(w.message) for w in caught)
finish(sys.argv[2])
