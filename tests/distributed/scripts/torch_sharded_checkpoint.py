"""torch only (2 gloo ranks started by the test): saves DTensors sharded along rows and columns, a replicated one and
plain values with torch.distributed.checkpoint, so the test can load the multi-chunk checkpoint in ember.

    python torch_sharded_checkpoint.py PATH
"""
import sys

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor import Replicate, Shard, distribute_tensor

dist.init_process_group("gloo")
mesh = init_device_mesh("cpu", (dist.get_world_size(),))
full = torch.arange(35.0).reshape(7, 5)
dcp.save({"rows": distribute_tensor(full, mesh, [Shard(0)]),
          "cols": distribute_tensor(full.T.contiguous(), mesh, [Shard(1)]),
          "rep": distribute_tensor(torch.ones(3, dtype=torch.float64), mesh, [Replicate()]),
          "plain": torch.full((2,), 5.0), "n": 3}, checkpoint_id=sys.argv[1])
rank = dist.get_rank()
dist.destroy_process_group()
print(f"rank {rank} ok")
