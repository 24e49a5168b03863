"""One program on FullyShardedDataParallel (2 or 3 ranks), run on ember (under mpiexec) or on torch (gloo, ranks
started by the test): the printed module, parameter names and shard shapes, training steps under each sharding
strategy and wrap policy (losses, gradients, shards), use_orig_params, no_sync, clip_grad_norm_, mixed precision,
summon_full_params, full state dicts (rank0_only, loading), optimizer state dicts and the errors. Each rank writes its
results as JSON to OUT_DIR/<library>-<rank>.json, for the test to compare ember's with torch's.

    python fsdp.py ember|torch OUT_DIR
"""
import functools
import sys
import warnings

from _beside_torch import LIBRARY, batch, dist, finish, net, plain, record, results, start, torch

if LIBRARY == "torch":
    from torch.distributed import fsdp
    from torch.distributed.fsdp import wrap
else:
    from ember.distributed import fsdp
    from ember.distributed.fsdp import wrap

FSDP = fsdp.FullyShardedDataParallel
CPU = torch.device("cpu")


def sorted_states(osd):
    """``osd`` with each parameter's states in name order (torch orders them as a set iterates)."""
    return {**osd, "state": {k: dict(sorted(v.items())) for k, v in osd["state"].items()}}


def without_exp_avg(osd):
    return {**osd, "state": {k: {n: s for n, s in v.items() if n != "exp_avg"} for k, v in osd["state"].items()}}


def train(name, steps=2, optimizer=torch.optim.SGD, options=None, **fsdp_options):
    model = FSDP(net(), device_id=CPU, **fsdp_options)
    opt = optimizer(model.parameters(), **(options or {"lr": 0.1}))
    for step in range(steps):
        opt.zero_grad()
        loss = model(batch(step, rank)).square().sum()
        loss.backward()
        results[f"{name}_loss{step}"] = loss.item()
        results[f"{name}_grads{step}"] = [[n, plain(p.grad)] for n, p in model.named_parameters()]
        opt.step()
    results[f"{name}_params"] = [[n, plain(p)] for n, p in model.named_parameters()]
    return model, opt


rank = start()
linear_policy = wrap.ModuleWrapPolicy({torch.nn.Linear})

model, _ = train("full", auto_wrap_policy=linear_policy)
results["repr"] = repr(model)
# a resharded unit's module keeps tensors of its parameters' shapes (their memory is freed)
results["resharded_shapes"] = [list(model.module[2].module.weight.shape), list(model.module[4].module.bias.shape)]
results["full_state_dict"] = plain(model.state_dict())
train("grad_op", sharding_strategy=fsdp.ShardingStrategy.SHARD_GRAD_OP,
      auto_wrap_policy=functools.partial(wrap.size_based_auto_wrap_policy, min_num_params=20))
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    train("no_shard", sharding_strategy=fsdp.ShardingStrategy.NO_SHARD, auto_wrap_policy=linear_policy)
results["no_shard_warnings"] = [[w.category.__name__, str(w.message)] for w in caught]
train("single_unit", optimizer=torch.optim.Adam, options={"lr": 0.01})
orig, orig_opt = train("orig", optimizer=torch.optim.Adam, options={"lr": 0.01}, use_orig_params=True,
                       auto_wrap_policy=linear_policy)
train("transformer_policy", use_orig_params=True, auto_wrap_policy=functools.partial(
    wrap.transformer_auto_wrap_policy, transformer_layer_cls={torch.nn.Linear}))
results["orig_repr"] = repr(orig)

# no_sync: two local backward passes, then one that reduces all three
for use_orig_params in (False, True):
    model = FSDP(net(), device_id=CPU, auto_wrap_policy=linear_policy, use_orig_params=use_orig_params)
    with model.no_sync():
        model(batch(0, rank)).sum().backward()
        model(batch(1, rank)).sum().backward()
    results[f"no_sync_local_grads_{use_orig_params}"] = [[n, plain(p.grad)] for n, p in model.named_parameters()]
    model(batch(2, rank)).sum().backward()
    results[f"no_sync_grads_{use_orig_params}"] = [[n, plain(p.grad)] for n, p in model.named_parameters()]
    record(f"no_sync_inner_{use_orig_params}", lambda: model.module[0].no_sync().__enter__())
    # clip_grad_norm_: the norm over every rank's shards
    results[f"clip_{use_orig_params}"] = plain(model.clip_grad_norm_(0.5))
    results[f"clipped_grads_{use_orig_params}"] = [[n, plain(p.grad)] for n, p in model.named_parameters()]
    results[f"clip_inf_{use_orig_params}"] = plain(model.clip_grad_norm_(0.1, norm_type=float("inf")))
    record(f"clip_inner_{use_orig_params}", lambda: model.module[0].clip_grad_norm_(1.0))

# summon_full_params: whole parameters under clean names; writeback keeps changes
model = FSDP(net(), device_id=CPU, auto_wrap_policy=linear_policy)
with FSDP.summon_full_params(model):
    results["summon_names"] = [[n, list(p.shape)] for n, p in model.named_parameters()]
    results["summon_weight"] = plain(model.module[2].weight)
    with torch.no_grad():
        model.module[2].weight.mul_(2)
results["after_summon_names"] = [n for n, _ in model.named_parameters()]
results["after_summon_state"] = plain(model.state_dict())
with FSDP.summon_full_params(model, writeback=False):
    with torch.no_grad():
        model.module[0].bias.fill_(7.0)
results["after_no_writeback"] = plain(model.state_dict()["0.bias"])

# full state dicts: rank0_only, and loading into a model initialized differently
saved = model.state_dict()
model = FSDP(net(), device_id=CPU, auto_wrap_policy=linear_policy)
config = fsdp.FullStateDictConfig(rank0_only=True)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    with FSDP.state_dict_type(model, fsdp.StateDictType.FULL_STATE_DICT, config):
        results["rank0_only_keys"] = list(model.state_dict())
        results["settings"] = repr(FSDP.get_state_dict_type(model))
results["state_dict_type_warnings"] = [[w.category.__name__, str(w.message)] for w in caught]
torch.manual_seed(5)
other = FSDP(torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 4), torch.nn.Tanh(),
                                 torch.nn.Linear(4, 2)), device_id=CPU, auto_wrap_policy=linear_policy)
results["load_result"] = str(other.load_state_dict(saved))
results["loaded_params"] = [[n, plain(p)] for n, p in other.named_parameters()]
results["loaded_state"] = plain(other.state_dict())
results["load_missing"] = str(other.load_state_dict({k: v for k, v in saved.items() if k != "2.bias"}, strict=False))

# optimizer state dicts (torch 2.13 on gloo gives exp_avg_sq's values as exp_avg with use_orig_params: left out)
osd = FSDP.optim_state_dict(orig, orig_opt)
results["orig_osd"] = plain(without_exp_avg(osd))
results["orig_osd_to_load"] = plain(sorted_states(without_exp_avg(FSDP.optim_state_dict_to_load(orig, orig_opt,
                                                                                                  osd))))
flat, flat_opt = train("flat_adam", steps=1, optimizer=torch.optim.Adam, options={"lr": 0.01},
                       auto_wrap_policy=linear_policy)
osd = FSDP.optim_state_dict(flat, flat_opt)
results["flat_osd"] = plain(osd)
to_load = FSDP.optim_state_dict_to_load(flat, flat_opt, osd)
results["flat_osd_to_load"] = plain(sorted_states(to_load))
flat_opt.load_state_dict(to_load)
results["flat_reloaded"] = plain(sorted_states(flat_opt.state_dict()))

# mixed precision: whole parameters in float64 for forward and backward, gradients reduced in float64
torch.manual_seed(0)
model = FSDP(net(), device_id=CPU, auto_wrap_policy=linear_policy,
             mixed_precision=fsdp.MixedPrecision(param_dtype=torch.float64, reduce_dtype=torch.float64))
out = model(batch(0, rank))
results["mixed_out"] = plain(out)
out.sum().backward()
results["mixed_grads"] = [[n, plain(p.grad)] for n, p in model.named_parameters()]

# sync_module_states broadcasts on GPUs only
record("sync_module_states_cpu", lambda: FSDP(torch.nn.Linear(3, 2), device_id=CPU, sync_module_states=True))

record("no_device", lambda: FSDP(net()))


class Tied(torch.nn.Module):
    """An embedding whose weight the output layer shares, a BatchNorm (buffers) and a unit with no parameters."""

    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(7, 4)
        self.norm = torch.nn.BatchNorm1d(4)
        self.act = torch.nn.Tanh()
        self.out = torch.nn.Linear(4, 7, bias=False)
        self.out.weight = self.embed.weight

    def forward(self, x):
        return self.out(self.act(self.norm(self.embed(x))))


for use_orig_params in (False, True):
    torch.manual_seed(0)
    model = FSDP(Tied(), device_id=CPU, use_orig_params=use_orig_params,
                 auto_wrap_policy=wrap.ModuleWrapPolicy({torch.nn.BatchNorm1d, torch.nn.Tanh}))
    results[f"tied_repr_{use_orig_params}"] = repr(model)
    results[f"tied_names_{use_orig_params}"] = [[n, list(p.shape)] for n, p in model.named_parameters()]
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    for step in range(2):   # two backward passes accumulate before the step
        torch.manual_seed(7 + step + rank)
        model(torch.randint(0, 7, (5,))).square().mean().backward()
    results[f"tied_grads_{use_orig_params}"] = [[n, plain(p.grad)] for n, p in model.named_parameters()]
    opt.step()
    results[f"tied_state_{use_orig_params}"] = plain(model.state_dict())
    model.eval()
    results[f"tied_eval_{use_orig_params}"] = plain(model(torch.arange(7)))

# mixed precision in half precision, buffers included
torch.manual_seed(0)
model = FSDP(torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 2)),
             device_id=CPU, mixed_precision=fsdp.MixedPrecision(param_dtype=torch.float16, reduce_dtype=torch.float32,
                                                                buffer_dtype=torch.float16))
torch.manual_seed(3 + rank)
out = model(torch.randn(6, 4))
results["half_out"] = [str(out.dtype), [round(v, 2) for v in out.flatten().tolist()]]
out.float().sum().backward()
results["half_grads"] = [[n, str(p.grad.dtype), [round(v, 2) for v in p.grad.tolist()]] for n, p in
                         model.named_parameters()]
results["half_state"] = [[k, str(v.dtype)] for k, v in model.state_dict().items()]
results["half_buffers"] = [[n, str(b.dtype)] for n, b in model.named_buffers()]


# explicit nesting (enable_wrap/wrap), ignored modules, a device mesh, SHARD_GRAD_OP with no_sync and use_orig_params,
# parameter groups in the optimizer state dict, attribute forwarding
def manual():
    torch.manual_seed(0)
    with wrap.enable_wrap(wrapper_cls=FSDP, device_id=CPU, use_orig_params=True):
        inner = wrap.wrap(torch.nn.Linear(6, 5))
    return torch.nn.Sequential(inner, torch.nn.ReLU(), torch.nn.Linear(5, 3))


model = FSDP(manual(), device_id=CPU, use_orig_params=True, ignored_modules=None,
             sharding_strategy=fsdp.ShardingStrategy.SHARD_GRAD_OP)
results["manual_repr"] = repr(model)
opt = torch.optim.Adam([{"params": model.module[0].parameters(), "lr": 0.05},
                        {"params": model.module[2].parameters()}], lr=0.01)
with model.no_sync():
    model(batch(0, rank)).sum().backward()
results["grad_op_no_sync_grads"] = [[n, plain(p.grad)] for n, p in model.named_parameters()]
model(batch(1, rank)).sum().backward()
results["grad_op_synced_grads"] = [[n, plain(p.grad)] for n, p in model.named_parameters()]
opt.step()
results["groups_osd"] = plain(without_exp_avg(FSDP.optim_state_dict(model, opt)))
results["forwarded_attr"] = [type(model[2]).__name__, type(model.module).__name__]

torch.manual_seed(0)
seq = net()
model = FSDP(seq, device_id=CPU, ignored_modules=[seq[4]], auto_wrap_policy=linear_policy)
results["ignored_names"] = [[n, list(p.shape)] for n, p in model.named_parameters()]
model(batch(0, rank)).sum().backward()
results["ignored_grads"] = [[n, plain(p.grad)] for n, p in model.named_parameters()]
results["ignored_state"] = plain(model.state_dict())

if LIBRARY == "torch":
    from torch.distributed.device_mesh import init_device_mesh
else:
    from ember.distributed.device_mesh import init_device_mesh
mesh = init_device_mesh("cpu", (dist.get_world_size(),))
model = FSDP(net(), device_id=CPU, device_mesh=mesh, use_orig_params=True)
model(batch(0, rank)).sum().backward()
results["mesh_grads"] = [[n, plain(p.grad)] for n, p in model.named_parameters()]

with FSDP.summon_full_params(model, with_grads=True):
    results["summon_with_grads"] = [[n, plain(p), plain(p.grad)] for n, p in model.named_parameters()]
results["after_with_grads"] = [[n, plain(p.grad)] for n, p in model.named_parameters()]
fresh = FSDP(net(), device_id=CPU, use_orig_params=True, auto_wrap_policy=linear_policy)
with FSDP.summon_full_params(fresh, with_grads=True):
    results["summon_no_grads"] = [[n, plain(p.grad)] for n, p in fresh.named_parameters()]
results["after_summon_no_grads"] = [[n, plain(p.grad)] for n, p in fresh.named_parameters()]
with FSDP.summon_full_params(model, rank0_only=True, writeback=False):
    results["summon_rank0_only"] = [[n, list(p.shape)] for n, p in model.named_parameters()]
record("summon_rank0_writeback", lambda: FSDP.summon_full_params(model, rank0_only=True).__enter__())
loaded = FSDP(torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 4), torch.nn.Tanh(),
                                  torch.nn.Linear(4, 2)), device_id=CPU, use_orig_params=True)
results["orig_load"] = str(loaded.load_state_dict(model.state_dict()))
results["orig_loaded_params"] = [[n, plain(p)] for n, p in loaded.named_parameters()]

# activation checkpointing inside FSDP units, applied after wrapping and before
if LIBRARY == "torch":
    from torch.distributed.algorithms._checkpoint import checkpoint_wrapper as ac
else:
    from ember.distributed.algorithms._checkpoint import checkpoint_wrapper as ac
for order in ("after", "before"):
    for use_orig_params in (False, True):
        name = f"ac_{order}_{use_orig_params}"
        seq = net()
        is_linear = lambda m: isinstance(m, torch.nn.Linear)   # noqa: E731
        wrapper = functools.partial(ac.checkpoint_wrapper, checkpoint_impl=ac.CheckpointImpl.NO_REENTRANT)
        if order == "before":
            ac.apply_activation_checkpointing(seq, checkpoint_wrapper_fn=wrapper, check_fn=is_linear)
        model = FSDP(seq, device_id=CPU, auto_wrap_policy=linear_policy, use_orig_params=use_orig_params)
        if order == "after":
            ac.apply_activation_checkpointing(model, checkpoint_wrapper_fn=wrapper, check_fn=is_linear)
        results[f"{name}_repr"] = repr(model)
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        model(batch(0, rank)).square().sum().backward()
        results[f"{name}_grads"] = [[n, plain(p.grad)] for n, p in model.named_parameters()]
        opt.step()
        results[f"{name}_state"] = plain(model.state_dict())
        results[f"{name}_osd_keys"] = list(FSDP.optim_state_dict(model, opt)["state"])
        results[f"{name}_load"] = str(model.load_state_dict(model.state_dict()))

# ShardedGradScaler: an overflow in one rank's float16 gradients skips the step on every rank
if LIBRARY == "torch":
    from torch.distributed.fsdp.sharded_grad_scaler import ShardedGradScaler
else:
    from ember.distributed.fsdp.sharded_grad_scaler import ShardedGradScaler
model = FSDP(net(), device_id=CPU, auto_wrap_policy=linear_policy,
             mixed_precision=fsdp.MixedPrecision(param_dtype=torch.float16))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
scaler = ShardedGradScaler(device="cpu", init_scale=2.0 ** 10, growth_interval=2)
for step in range(4):
    opt.zero_grad()
    x = batch(step, rank) * (1e6 if step == 1 and rank == 1 else 1.0)
    loss = model(x).float().square().sum()
    scaled = scaler.scale(loss)
    results[f"scaler_scaled_dtype{step}"] = str(scaled.dtype)
    scaled.backward()
    before = [p.detach().clone() for p in model.parameters()]
    scaler.step(opt)
    scaler.update()
    results[f"scaler_scale{step}"] = scaler.get_scale()
    results[f"scaler_skipped{step}"] = all(torch.equal(a, p) for a, p in zip(before, model.parameters()))

# apply: fn sees each unit's whole parameters and its changes stay
for use_orig_params in (False, True):
    model = FSDP(net(), device_id=CPU, auto_wrap_policy=linear_policy, use_orig_params=use_orig_params)
    torch.manual_seed(11)
    seen = []

    def init(module):
        if isinstance(module, torch.nn.Linear):
            seen.append(list(module.weight.shape))
            torch.nn.init.normal_(module.weight, std=0.5)
            torch.nn.init.constant_(module.bias, 0.25)
    results[f"apply_returns_{use_orig_params}"] = model.apply(init) is model
    results[f"apply_seen_{use_orig_params}"] = seen
    results[f"apply_state_{use_orig_params}"] = plain(model.state_dict())
    results[f"apply_out_{use_orig_params}"] = plain(model(batch(0, rank)))
if LIBRARY == "torch":
    from torch.distributed.fsdp import fully_sharded_data_parallel as module_path
else:
    from ember.distributed.fsdp import fully_sharded_data_parallel as module_path
results["module_path_names"] = [hasattr(module_path, n) for n in (
    "MixedPrecision", "CPUOffload", "BackwardPrefetch", "ShardingStrategy", "StateDictType", "FullStateDictConfig",
    "FullOptimStateDictConfig", "LocalStateDictConfig", "ShardedStateDictConfig", "OptimStateKeyType")]

# deferred initialization: a model built on the meta device is materialized unit by unit
for how in ("reset_parameters", "param_init_fn"):
    with torch.device("meta"):
        meta = net()
    torch.manual_seed(21)
    init_fn = None if how == "reset_parameters" else \
        (lambda m: m.to_empty(device=CPU, recurse=False) if any(True for _ in m.parameters(recurse=False)) else None)
    model = FSDP(meta, device_id=CPU, auto_wrap_policy=linear_policy, param_init_fn=init_fn)
    results[f"meta_{how}_params"] = [[n, list(p.shape), p.is_meta] for n, p in model.named_parameters()]
    if how == "reset_parameters":
        results[f"meta_{how}_state"] = plain(model.state_dict())

# the legacy optimizer-state functions
flat, flat_opt = train("legacy", steps=1, optimizer=torch.optim.Adam, options={"lr": 0.01},
                       auto_wrap_policy=linear_policy)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    full = FSDP.full_optim_state_dict(flat, flat_opt)
    results["legacy_full"] = plain(full)
    everywhere = FSDP.full_optim_state_dict(flat, flat_opt, rank0_only=False)
    results["legacy_sharded"] = plain(sorted_states(FSDP.shard_full_optim_state_dict(everywhere, flat)))
    results["legacy_sharded_optim"] = plain(sorted_states(FSDP.shard_full_optim_state_dict(everywhere, flat,
                                                                                          optim=flat_opt)))
    results["legacy_scattered"] = plain(sorted_states(FSDP.scatter_full_optim_state_dict(full, flat)))
results["legacy_warnings"] = [str(w.message) for w in caught if w.category is FutureWarning]   # (torch's gloo adds
# UserWarnings of its own)

# two forward passes through the same units before one backward; no_sync under NO_SHARD
for strategy in (fsdp.ShardingStrategy.FULL_SHARD, fsdp.ShardingStrategy.SHARD_GRAD_OP):
    model = FSDP(net(), device_id=CPU, auto_wrap_policy=linear_policy, sharding_strategy=strategy)
    (model(batch(0, rank)).sum() + model(batch(1, rank)).square().sum()).backward()
    results[f"twice_{strategy.name}"] = [[n, plain(p.grad)] for n, p in model.named_parameters()]
with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    model = FSDP(net(), device_id=CPU, auto_wrap_policy=linear_policy, sharding_strategy=fsdp.ShardingStrategy.NO_SHARD,
                 use_orig_params=True)
with model.no_sync():
    model(batch(0, rank)).sum().backward()
results["no_shard_local"] = [[n, plain(p.grad)] for n, p in model.named_parameters()]
model(batch(1, rank)).sum().backward()
results["no_shard_synced"] = [[n, plain(p.grad)] for n, p in model.named_parameters()]
opt = torch.optim.Adam(model.parameters(), lr=0.01)
opt.step()
osd = FSDP.optim_state_dict(model, opt)
results["no_shard_osd"] = plain(without_exp_avg(osd))
results["no_shard_osd_to_load"] = plain(sorted_states(without_exp_avg(FSDP.optim_state_dict_to_load(model, opt, osd))))

# frozen parameters (as in fine-tuning): use_orig_params trains the rest; without it a unit must be uniform
for use_orig_params in (True, False):
    seq = net()
    seq[0].weight.requires_grad_(False)
    seq[2].requires_grad_(False)

    def frozen():
        model = FSDP(seq, device_id=CPU, use_orig_params=use_orig_params,
                     auto_wrap_policy=wrap.ModuleWrapPolicy({torch.nn.Sequential}))
        opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
        model(batch(0, rank)).square().sum().backward()
        grads = [[n, p.requires_grad, plain(p.grad)] for n, p in model.named_parameters()]
        opt.step()
        return grads, plain(model.state_dict())
    record(f"frozen_{use_orig_params}", frozen)
record("mixed_dtypes", lambda: FSDP(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2).double()),
                                    device_id=CPU) and None)

# mixed precision with a wrap policy: BatchNorm gets a unit of its own and runs in float32
torch.manual_seed(0)
bn_net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 2))
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    model = FSDP(bn_net, device_id=CPU, auto_wrap_policy=functools.partial(wrap.size_based_auto_wrap_policy,
                                                                           min_num_params=30),
                 mixed_precision=fsdp.MixedPrecision(param_dtype=torch.float64, reduce_dtype=torch.float64))
results["bn_warnings"] = [str(w.message).replace("ember.", "torch.") for w in caught
                          if "mixed precision disabled" in str(w.message)]
results["bn_repr"] = repr(model)
out = model(batch(0, rank)[:, :4])
results["bn_out"] = plain(out)
out.sum().backward()
results["bn_grads"] = [[n, plain(p.grad)] for n, p in model.named_parameters()]

finish(sys.argv[2])
