"""One 2-rank program on torch.distributed.checkpoint, run on ember (under mpiexec) or on torch (gloo, ranks started
by the test): each rank saves a replicated model, a DDP model's optimizer state (get_state_dict) and a value of its
own into OUT_DIR/<library>-ckpt (and with async_save while collectives run), which items each rank's file holds,
loading it back in place, and the errors. Each rank writes its results as JSON to OUT_DIR/<library>-<rank>.json; the
test also reads each side's checkpoint with the other library.

    python checkpoint.py ember|torch OUT_DIR
"""
import os
import sys

from _beside_torch import LIBRARY, dist, finish, results, start, torch

if LIBRARY == "torch":
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict
    from torch.nn.parallel import DistributedDataParallel
else:
    import ember.distributed.checkpoint as dcp
    from ember.distributed.checkpoint.state_dict import get_state_dict, set_state_dict
    from ember.nn.parallel import DistributedDataParallel


def plain(value):
    """JSON-able form of a state_dict's values."""
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


rank = start()
out = sys.argv[2]
path = os.path.join(out, f"{LIBRARY}-ckpt")
torch.manual_seed(0)
model = DistributedDataParallel(torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)))
optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
torch.manual_seed(1 + rank)
model(torch.randn(5, 3)).pow(2).sum().backward()
optimizer.step()
model_sd, optim_sd = get_state_dict(model, optimizer)
results["model_keys"] = list(model_sd)
results["optim_state_keys"] = [str(k) for k in optim_sd["state"]]
state = {"model": model_sd, "optim": optim_sd, "step": 5, f"own{rank}": torch.full((2,), float(rank)),
         "table": torch.arange(12.0).reshape(3, 4)}
metadata = dcp.save(state, checkpoint_id=path)
results["saved_keys"] = sorted(metadata.state_dict_metadata)
dist.barrier()
read = dcp.FileSystemReader(path).read_metadata()
results["files"] = sorted([index.fqn, info.relative_path] for index, info in read.storage_data.items())
results["data_files"] = sorted(name for name in os.listdir(path))

fresh = DistributedDataParallel(torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)))
fresh_optimizer = torch.optim.Adam(fresh.parameters(), lr=0.5)
fresh_model_sd, fresh_optim_sd = get_state_dict(fresh, fresh_optimizer)
other = 1 - rank
loaded = {"model": fresh_model_sd, "optim": fresh_optim_sd, "step": 0, f"own{other}": torch.zeros(2),
          "table": torch.zeros(3, 4)}
weight = loaded["model"]["0.weight"]
dcp.load(loaded, checkpoint_id=path)
results["weight_in_place"] = loaded["model"]["0.weight"] is weight
set_state_dict(fresh, fresh_optimizer, model_state_dict=loaded["model"], optim_state_dict=loaded["optim"])
results["loaded_model"] = plain(fresh.module.state_dict())
results["loaded_optim"] = plain(fresh_optimizer.state_dict())
results["loaded_rest"] = plain({k: v for k, v in loaded.items() if k not in ("model", "optim")})


# async_save while this thread keeps running collectives: torch's gloo needs a group of its own for the writing
# thread (on the default group the two threads' collectives pair up wrongly and hang); ember makes one itself
group = dist.new_group(backend="gloo") if LIBRARY == "torch" else None
future = dcp.async_save(state, checkpoint_id=path + "-async", process_group=group)
total = torch.zeros(3)
for step in range(5):
    value = torch.full((3,), float(step + rank))
    dist.all_reduce(value)
    total += value
results["async_keys"] = sorted(future.result(timeout=60).state_dict_metadata)
results["reduced_meanwhile"] = total.tolist()
again = {"table": torch.zeros(3, 4), f"own{rank}": torch.zeros(2)}
dcp.load(again, checkpoint_id=path + "-async")
results["async_loaded"] = plain(again)


# a torch.save file loaded on every rank: rank 0 reads it and broadcasts the tensors
if LIBRARY == "torch":
    from torch.distributed.checkpoint.format_utils import BroadcastingTorchSaveReader, DynamicMetaLoadPlanner
else:
    from ember.distributed.checkpoint.format_utils import BroadcastingTorchSaveReader, DynamicMetaLoadPlanner
whole_file = os.path.join(out, f"{LIBRARY}-whole.pt")
if rank == 0:
    torch.save({"layer": {"w": torch.arange(6.0).reshape(2, 3)}, "b": torch.tensor([7, 8])}, whole_file)
dist.barrier()
broadcast_into = {"layer": {"w": torch.zeros(2, 3)}, "b": torch.zeros(2, dtype=torch.int64)}
dcp.load(broadcast_into, storage_reader=BroadcastingTorchSaveReader(), planner=DynamicMetaLoadPlanner(),
         checkpoint_id=whole_file)
results["broadcast_loaded"] = plain(broadcast_into)


# broadcast_from_rank0: only rank 0 holds the full state_dicts; the others pass empty ones and receive rank 0's
if LIBRARY == "torch":
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict, set_optimizer_state_dict
else:
    from ember.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict, set_optimizer_state_dict
torch.manual_seed(10 + rank)
receiver = DistributedDataParallel(torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)))
torch.manual_seed(20 + rank)
with torch.no_grad():
    for p in receiver.module.parameters():
        p.copy_(torch.randn(p.shape))   # differs per rank (DDP broadcast rank 0's at construction)
receiver_opt = torch.optim.Adam(receiver.parameters(), lr=0.3)
full = StateDictOptions(full_state_dict=True, broadcast_from_rank0=True)
source_sd = get_state_dict(model, optimizer, options=StateDictOptions(full_state_dict=True)) if rank == 0 else ({}, {})
set_model_state_dict(receiver, source_sd[0], options=full)
set_optimizer_state_dict(receiver, receiver_opt, source_sd[1], options=full)
results["broadcast_model"] = plain(receiver.module.state_dict())
results["broadcast_optim"] = plain(receiver_opt.state_dict())


def missing():
    dcp.load({"absent": torch.zeros(1)}, checkpoint_id=path)


def mismatch():
    dcp.load({"table": torch.zeros(4, 3)}, checkpoint_id=path)


def overwrite_refused():
    dcp.save({"x": torch.ones(1)}, storage_writer=dcp.FileSystemWriter(path, overwrite=False))


for name, call in (("missing", missing), ("mismatch", mismatch), ("overwrite_refused", overwrite_refused)):
    try:
        call()
        results[name] = None
    except BaseException as error:   # CheckpointException is a BaseException
        results[name] = [type(error).__name__, str(error).splitlines()[0], str(error).splitlines()[-1]]
finish(out)
