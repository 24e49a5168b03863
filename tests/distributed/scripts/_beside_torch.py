"""What the programs run on ember and on torch share: the library chosen by the first argument, a results dict
that records values or errors, and writing it where the test reads it (OUT_DIR/<library>-<rank>.json)."""
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


def finish(out_dir):
    """Writes this rank's results, waits for the others and leaves the job."""
    rank = dist.get_rank()
    with open(os.path.join(out_dir, f"{LIBRARY}-{rank}.json"), "w") as file:
        json.dump(results, file)
    dist.barrier()
    dist.destroy_process_group()
    print(f"rank {rank} ok")
