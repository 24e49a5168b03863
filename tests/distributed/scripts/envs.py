"""Writes torchrun's per-rank environment, as ember.distributed.run sets it, to rank-<r>.json in the working directory
(a file per rank: mpiexec may interleave the ranks' stdout)."""
import json
import os
import sys

import ember.distributed as dist

dist.init_process_group("gloo", init_method="env://")
keys = ["RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"]
with open(f"rank-{dist.get_rank()}.json", "w") as f:
    json.dump({"rank": dist.get_rank(), "env": {k: os.environ[k] for k in keys}, "argv": sys.argv[1:],
               "elastic": dist.is_torchelastic_launched()}, f)
