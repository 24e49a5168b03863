"""ember.distributed on this machine: allreduce throughput against raw mpi4py, and DDP step times.

    python bench/bench_distributed.py [--quick]

starts itself under mpiexec (2 ranks, and 1 rank for the DDP baseline) and prints Markdown tables:
- allreduce of 1 KB-64 MB float32 buffers: ember's ``dist.all_reduce`` (argument check across ranks included)
  against mpi4py's ``Allreduce`` on the same buffer, in GB/s of buffer per second (median of repeats), also with
  the check skipped (``TORCH_DISTRIBUTED_DEBUG=OFF``);
- one training step (forward, backward, SGD) of the seeds' MLP and CNN at a global batch of 100, on 1 rank and on
  2 ranks with DDP (50 per rank), and how much of the allreduce time backward hides: 1 - (DDP step - step under
  ``no_sync``) / (the same buckets allreduced alone after backward).
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent


def median_time(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def allreduce_rows(quick):
    import numpy as np
    from mpi4py import MPI

    import ember
    import ember.distributed as dist
    comm = dist.group.WORLD.comm
    rows = []
    for size in [2 ** k for k in range(10, 27, 2 if quick else 1)]:   # bytes: 1 KB ... 64 MB
        array = np.ones(size // 4, np.float32)
        tensor = ember.from_numpy(array.copy())
        repeats = max(3, min(200, (1 << 24) // size))

        def raw():
            comm.Barrier()
            comm.Allreduce(MPI.IN_PLACE, array)

        def ours():
            comm.Barrier()
            dist.all_reduce(tensor)
        barrier = median_time(comm.Barrier, repeats)
        t_raw, t_ours = median_time(raw, repeats) - barrier, median_time(ours, repeats) - barrier
        os.environ["TORCH_DISTRIBUTED_DEBUG"] = "OFF"   # without the argument check across ranks
        t_unchecked = median_time(ours, repeats) - barrier
        del os.environ["TORCH_DISTRIBUTED_DEBUG"]
        rows.append({"bytes": size, "raw": size / t_raw / 1e9, "ember": size / t_ours / 1e9,
                     "unchecked": size / t_unchecked / 1e9})
    return rows


def model(name):
    sys.path.insert(0, str(ROOT / "examples"))
    import ember
    ember.manual_seed(0)
    if name == "MLP":
        from mnist_mlp import Net
        return Net(), ember.randn(100, 1, 28, 28)
    from mnist_cnn import Net
    return Net(), ember.randn(100, 1, 28, 28)


def ddp_rows(quick):
    import ember
    import ember.distributed as dist
    from ember.nn.parallel import DistributedDataParallel as DDP
    rank, world = dist.get_rank(), dist.get_world_size()
    rows = []
    for name, repeats in [("MLP", 10 if quick else 30), ("CNN", 3 if quick else 8)]:
        net, x = model(name)
        share = slice(rank * 100 // world, (rank + 1) * 100 // world)
        x, y = x[share], ember.randint(0, 10, (100,))[share]
        wrapped = DDP(net) if world > 1 else net
        opt = ember.optim.SGD(wrapped.parameters(), lr=0.01, momentum=0.9)

        def step():
            opt.zero_grad()
            ember.nn.functional.nll_loss(wrapped(x), y).backward()
            opt.step()
            dist.barrier()
        row = {"model": name, "ranks": world, "step": median_time(step, repeats)}
        if world > 1:
            def local_step():
                with wrapped.no_sync():
                    step()

            def comm_alone():
                for bucket in wrapped._buckets:
                    dist.all_reduce(bucket.buffer)
                dist.barrier()
            row["no_sync"] = median_time(local_step, repeats)
            row["allreduce"] = median_time(comm_alone, repeats)
            exposed = min(max(row["step"] - row["no_sync"], 0), row["allreduce"])
            row["hidden"] = 1 - exposed / row["allreduce"]
        rows.append(row)
    return rows


def worker(quick):
    import ember.distributed as dist
    dist.init_process_group("gloo")
    result = {"allreduce": allreduce_rows(quick) if dist.get_world_size() > 1 else [], "ddp": ddp_rows(quick)}
    if dist.get_rank() == 0:
        print(json.dumps(result), flush=True)


def launch(ranks, quick):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    mpiexec = pathlib.Path(sys.executable).parent / "mpiexec"
    out = subprocess.run([str(mpiexec), "-n", str(ranks), sys.executable, __file__, "--worker"] +
                         (["--quick"] if quick else []), env=env, capture_output=True, text=True, timeout=1800)
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--quick", action="store_true", help="fewer sizes and steps")
    args = parser.parse_args()
    if args.worker:
        return worker(args.quick)
    two, one = launch(2, args.quick), launch(1, args.quick)
    print("| buffer | mpi4py Allreduce GB/s | ember all_reduce GB/s (ratio) | with TORCH_DISTRIBUTED_DEBUG=OFF "
          "(ratio) |\n|---|---|---|---|")
    for row in two["allreduce"]:
        size = row["bytes"]
        label = f"{size >> 20} MB" if size >= 1 << 20 else f"{size >> 10} KB"
        print(f"| {label} | {row['raw']:.3f} | {row['ember']:.3f} ({row['ember'] / row['raw']:.2f}) | "
              f"{row['unchecked']:.3f} ({row['unchecked'] / row['raw']:.2f}) |")
    print("\n| model | 1 rank step (batch 100) | 2 ranks DDP step (50 each) | 2 ranks, no_sync | allreduce alone |"
          " hidden behind backward |\n|---|---|---|---|---|---|")
    for single, ddp in zip(one["ddp"], two["ddp"]):
        print(f"| {ddp['model']} | {single['step'] * 1e3:.1f} ms | {ddp['step'] * 1e3:.1f} ms | "
              f"{ddp['no_sync'] * 1e3:.1f} ms | {ddp['allreduce'] * 1e3:.1f} ms | {100 * ddp['hidden']:.0f} % |")


if __name__ == "__main__":
    main()
