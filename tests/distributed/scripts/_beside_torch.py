"""What the programs run on ember and on torch share: the library chosen by the first argument, a results dict
that records values or errors, joining the job (and laying its ranks out as a DeviceMesh), writing the results where
the test reads them (OUT_DIR/<library>-<rank>.json), and the small model, batches and JSON form of tensors the FSDP
programs share."""
import datetime
import json
import os
import sys

LIBRARY = sys.argv[1]   # "ember" or "torch"
if LIBRARY == "torch":
    import torch
    import torch.distributed as dist
else:
    import ember as torch  # noqa: F401 (the programs import it from here)
    import ember.distributed as dist

results = {}


def record(name, call):
    """Stores call()'s value, or its error's type and message."""
    try:
        results[name] = call()
    except Exception as error:   # recorded for comparison
        results[name] = [type(error).__name__, str(error)]


def start():
    """Joins the job (gloo on torch, MPI on ember) and returns this rank."""
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
    results["rank"] = dist.get_rank()
    return results["rank"]


def start_mesh(rows=1, names=None):
    """Joins the job; returns this rank, the world size and a CPU DeviceMesh of the ranks in a line, or with ``rows``
    of them (rows x world / rows), its dimensions named ``names``."""
    if LIBRARY == "torch":
        from torch.distributed.device_mesh import init_device_mesh
    else:
        from ember.distributed.device_mesh import init_device_mesh
    rank = start()
    world = dist.get_world_size()
    return rank, world, init_device_mesh("cpu", (world,) if rows == 1 else (rows, world // rows), mesh_dim_names=names)


def finish(out_dir):
    """Writes this rank's results, waits for the others and leaves the job."""
    rank = dist.get_rank()
    with open(os.path.join(out_dir, f"{LIBRARY}-{rank}.json"), "w") as file:
        json.dump(results, file)
    dist.barrier()
    dist.destroy_process_group()
    print(f"rank {rank} ok")


def net(seed=0):
    """The FSDP programs' model: a small Tanh MLP, 6 -> 5 -> 4 -> 2, its parameters drawn after seeding ``seed``."""
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 4), torch.nn.Tanh(),
                               torch.nn.Linear(4, 2))


def batch(step, rank):
    """Rank ``rank``'s inputs at ``step``: 3 rows of 6."""
    torch.manual_seed(100 + 10 * step + rank)
    return torch.randn(3, 6)


def plain(value):
    """JSON-able form of tensors and containers (dicts as key-value lists, so their order counts)."""
    if isinstance(value, torch.Tensor):
        return [str(value.dtype), list(value.shape), value.tolist()]
    if isinstance(value, dict):
        return [[str(k), plain(v)] for k, v in value.items()]
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value
