"""A job where rank 1 fails (argv[1]: raise, kill, hang, hang-monitored, late-init) while rank 0 waits; argv[2] is
where the failing rank writes the time it failed."""
import datetime
import os
import pathlib
import signal
import sys
import time

import ember
import ember.distributed as dist

mode, stamp = sys.argv[1], pathlib.Path(sys.argv[2])
if mode == "late-init" and os.environ["PMI_RANK"] == "1":
    time.sleep(60)   # never reaches init_process_group: rank 0's must time out
elif mode != "late-init":
    # Both ranks reach init together, so the 3 s timeout measures the fault, not how long importing took on a
    # loaded machine.
    (stamp.parent / f"ready-{os.environ['PMI_RANK']}").touch()
    while not all((stamp.parent / f"ready-{rank}").exists() for rank in range(2)):
        time.sleep(0.01)
dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=3))
rank = dist.get_rank()
dist.barrier()
if rank == 1:
    stamp.write_text(str(time.time()))
    if mode == "raise":
        raise RuntimeError("rank 1 fails on purpose")
    if mode == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(60)   # hang: rank 0's collective must time out
if mode == "hang-monitored":
    dist.monitored_barrier(timeout=datetime.timedelta(seconds=2))
dist.all_reduce(ember.ones(4))
