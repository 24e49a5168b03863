"""PyTorch's DDP-tutorial pattern: spawn ranks that each call init_process_group(rank, world_size)."""
import os
import sys

import ember
import ember.distributed as dist
import ember.multiprocessing as mp


def work(rank, world, fail_rank):
    os.environ.setdefault("MASTER_ADDR", "localhost")
    os.environ.setdefault("MASTER_PORT", "12355")
    dist.init_process_group("gloo", rank=rank, world_size=world)
    t = ember.tensor([float(rank + 1)])
    dist.all_reduce(t)
    assert t.item() == world * (world + 1) / 2
    if rank == fail_rank:
        raise ValueError(f"boom on rank {rank}")
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    mp.spawn(work, args=(3, -1), nprocs=3)
    print("spawn ok", flush=True)
    try:
        mp.spawn(work, args=(2, 1), nprocs=2)
    except mp.ProcessRaisedException as error:
        assert error.error_index == 1, error.error_index
        assert "-- Process 1 terminated with the following error:" in str(error)
        assert "ValueError: boom on rank 1" in str(error) and "in work" in str(error)
        print("failure re-raised ok", flush=True)
    sys.exit(0)
