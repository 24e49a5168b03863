"""One 2-rank program on torch.distributed.checkpoint.state_dict with FullyShardedDataParallel (FSDP1) models, run on
ember (under mpiexec) or on torch (gloo, ranks started by the test): for flat parameters with Adam and for
use_orig_params with SGD momentum, two training steps, the full state dicts (cpu_offload: rank 0 only; without it:
every rank), a DCP save of them loaded into a fresh wrapped model and optimizer (set_state_dict), one loaded from
rank 0 only (broadcast_from_rank0), two more steps on each, and the default (sharded) options. Each rank writes its
results as JSON to OUT_DIR/<library>-<rank>.json.

    python fsdp_state_dict.py ember|torch OUT_DIR
"""
import os
import sys

from _beside_torch import LIBRARY, batch, finish, net, plain, record, results, start, torch

if LIBRARY == "torch":
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint import state_dict as dsd
    from torch.distributed import fsdp
    from torch.distributed.fsdp import wrap
else:
    import ember.distributed.checkpoint as dcp
    from ember.distributed.checkpoint import state_dict as dsd
    from ember.distributed import fsdp
    from ember.distributed.fsdp import wrap

FSDP = fsdp.FullyShardedDataParallel
CPU = torch.device("cpu")
FULL = dsd.StateDictOptions(full_state_dict=True)
OFFLOADED = dsd.StateDictOptions(full_state_dict=True, cpu_offload=True)
BROADCAST = dsd.StateDictOptions(full_state_dict=True, broadcast_from_rank0=True)
CONFIGS = {"flat": (False, lambda params: torch.optim.Adam(params, lr=0.01)),
           "orig": (True, lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9))}


def wrapped(config, seed=0):
    use_orig_params, optimizer = CONFIGS[config]
    model = FSDP(net(seed), device_id=CPU, use_orig_params=use_orig_params,
                 auto_wrap_policy=wrap.ModuleWrapPolicy({torch.nn.Linear}))
    return model, optimizer(model.parameters())


def train(model, opt, steps, rank):
    losses = []
    for step in steps:
        opt.zero_grad()
        loss = model(batch(step, rank)).square().sum()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


rank = start()
out = sys.argv[2]
for config in CONFIGS:
    model, opt = wrapped(config)
    results[f"{config}_losses"] = train(model, opt, range(2), rank)
    if LIBRARY == "ember":   # (torch's FSDP cannot offload CPU parameters to the CPU: its unshard fails)
        results[f"{config}_offloaded"] = plain(dsd.get_state_dict(model, opt, options=OFFLOADED))
    msd, full_osd = dsd.get_model_state_dict(model, options=FULL), dsd.get_optimizer_state_dict(model, opt,
                                                                                                options=FULL)
    results[f"{config}_model_full"] = plain(msd)
    results[f"{config}_optim_full"] = plain(full_osd)
    record(f"{config}_sharded", lambda: sorted({type(v).__name__ for v in dsd.get_model_state_dict(model).values()}))

    # DCP: every rank saves the (replicated) full state dicts; a fresh wrapped model loads them and trains on
    path = os.path.join(out, f"{LIBRARY}-{config}-ckpt")
    dcp.save({"model": msd, "optim": full_osd}, checkpoint_id=path)
    fresh, fresh_opt = wrapped(config, seed=7)
    template = dict(zip(("model", "optim"), dsd.get_state_dict(fresh, fresh_opt, options=FULL)))
    dcp.load(template, checkpoint_id=path)
    results[f"{config}_set"] = str(dsd.set_state_dict(fresh, fresh_opt, model_state_dict=template["model"],
                                                      optim_state_dict=template["optim"], options=FULL))
    results[f"{config}_loaded"] = plain(dsd.get_state_dict(fresh, fresh_opt, options=FULL))

    # rank 0's state dicts alone, broadcast to the others
    other, other_opt = wrapped(config, seed=9)
    dsd.set_model_state_dict(other, msd if rank == 0 else {}, options=BROADCAST)
    dsd.set_optimizer_state_dict(other, other_opt, full_osd if rank == 0 else {}, options=BROADCAST)
    results[f"{config}_broadcast"] = plain(dsd.get_state_dict(other, other_opt, options=FULL))

    for name, (m, o) in (("continued", (model, opt)), ("resumed", (fresh, fresh_opt)),
                         ("broadcast_resumed", (other, other_opt))):
        results[f"{config}_{name}_losses"] = train(m, o, range(2, 4), rank)
        results[f"{config}_{name}_state"] = plain(dsd.get_state_dict(m, o, options=FULL))
finish(out)
