"""One program on FullyShardedDataParallel's hybrid strategies (4 ranks: 2 "nodes" of 2), run on ember (under
mpiexec) or on torch (gloo): HYBRID_SHARD on a 2-D DeviceMesh and _HYBRID_SHARD_ZERO2 on a pair of process groups,
trained with SGD or Adam (losses, gradients, shards, clipped norms), no_sync, full and sharded state dicts and
optimizer state dicts, the groups PyTorch makes itself under an auto-wrap policy, and the errors. Each rank writes
its results as JSON to OUT_DIR/<library>-<rank>.json, for the test to compare ember's with torch's.

    python fsdp_hybrid.py ember|torch OUT_DIR
"""
import sys
import warnings

from _beside_torch import LIBRARY, batch, finish, net, plain, record, results, start, torch

if LIBRARY == "torch":
    from torch.distributed import fsdp
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import wrap
else:
    from ember.distributed import fsdp
    from ember.distributed.device_mesh import init_device_mesh
    from ember.distributed.fsdp import wrap

FSDP = fsdp.FullyShardedDataParallel
CPU = torch.device("cpu")
nn = torch.nn


def train(name, steps=2, optimizer=torch.optim.SGD, options=None, **fsdp_options):
    model = FSDP(net(), device_id=CPU, auto_wrap_policy=wrap.ModuleWrapPolicy({nn.Linear}), **fsdp_options)
    opt = optimizer(model.parameters(), **(options or {"lr": 0.1}))
    for step in range(steps):
        opt.zero_grad()
        loss = model(batch(step, rank)).square().sum()
        loss.backward()
        results[f"{name}_loss{step}"] = loss.item()
        results[f"{name}_grads{step}"] = [[n, plain(p.grad)] for n, p in model.named_parameters()]
        results[f"{name}_norm{step}"] = model.clip_grad_norm_(0.5).item()
        opt.step()
    results[f"{name}_params"] = [[n, plain(p)] for n, p in model.named_parameters()]
    return model, opt


rank = start()
mesh = init_device_mesh("cpu", (2, 2), mesh_dim_names=("replicate", "shard"))
model, _ = train("hybrid", sharding_strategy=fsdp.ShardingStrategy.HYBRID_SHARD, device_mesh=mesh,
                 use_orig_params=True)
results["hybrid_groups"] = [model.process_group.size(), model._inter_node_pg.size(), model.rank, model.world_size]
results["full_state_dict"] = plain(model.state_dict())
with warnings.catch_warnings():   # (FSDP.state_dict_type's deprecation)
    warnings.simplefilter("ignore", FutureWarning)
    with FSDP.state_dict_type(model, fsdp.StateDictType.SHARDED_STATE_DICT):   # DTensors on the 2-D mesh
        sharded = model.state_dict()
        results["sharded_state_dict"] = [[k, str(v.placements), plain(v.to_local())] for k, v in sharded.items()]
        model.load_state_dict(sharded)
results["sharded_reloaded"] = plain(model.state_dict())

groups = (mesh.get_group(1), mesh.get_group(0))
# (Adam with flat parameters: torch 2.13's optim_state_dict gives exp_avg_sq's values as exp_avg with use_orig_params)
model, opt = train("zero2", optimizer=torch.optim.Adam, options={"lr": 0.05},
                   sharding_strategy=fsdp.ShardingStrategy._HYBRID_SHARD_ZERO2, process_group=groups)
record("zero2_optim_state", lambda: plain(FSDP.optim_state_dict(model, opt)))

# no_sync: the first batch's gradients stay local and unsharded, the next backward reduces their sum
model = FSDP(net(), device_id=CPU, sharding_strategy=fsdp.ShardingStrategy.HYBRID_SHARD, process_group=groups)
with model.no_sync():
    model(batch(0, rank)).square().sum().backward()
results["no_sync_grad_shape"] = list(model._flat_param.grad.shape)
model(batch(1, rank)).square().sum().backward()
results["no_sync_grads"] = [[n, plain(p.grad)] for n, p in model.named_parameters()]

# no groups given, under a policy: PyTorch makes nodes of as many ranks as devices (one on CPU)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    model, _ = train("auto_groups", steps=1, sharding_strategy=fsdp.ShardingStrategy.HYBRID_SHARD)
results["auto_groups"] = [model.process_group.size(), model._inter_node_pg.size(), str(model.sharding_strategy)]

record("manual_without_groups", lambda: FSDP(net(), device_id=CPU,
                                             sharding_strategy=fsdp.ShardingStrategy.HYBRID_SHARD))
record("one_dim_mesh", lambda: FSDP(net(), device_id=CPU, sharding_strategy=fsdp.ShardingStrategy.HYBRID_SHARD,
                                    device_mesh=init_device_mesh("cpu", (4,))))
record("one_group", lambda: FSDP(net(), device_id=CPU, sharding_strategy=fsdp.ShardingStrategy.HYBRID_SHARD,
                                 process_group=groups[0]))
results["one_group"][1] = results["one_group"][1].split(" but got")[0]   # (then the group's class path)
finish(sys.argv[2])
