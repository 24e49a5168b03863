"""ember.distributed on this machine beside raw mpi4py and PyTorch's gloo: allreduce throughput and DDP steps.

    python bench/bench_distributed.py [--quick] [--no-torch] [--allreduce-only]

starts itself under mpiexec (2 ranks, and 1 rank for the DDP baseline), once with ember and once with PyTorch
(gloo over TCP, rank and size from MPI's launcher), and prints Markdown tables:
- allreduce of 1 KB-64 MB float32 buffers: ember's ``dist.all_reduce`` (argument check across ranks included)
  against raw mpi4py on the same buffer (the tensor shares the array's memory), in GB/s of buffer per second, also
  on a group made under ``TORCH_DISTRIBUTED_DEBUG=OFF`` (no check), and PyTorch's gloo ``all_reduce`` beside raw
  MPI in its own job. Raw MPI is timed two ways, blocking ``Allreduce`` and ``Iallreduce`` polled with ``Test``
  (what ember does), and each ratio is to the faster of the two: on a loaded machine the blocking call's time
  swings most. Each job runs rounds of every variant in turn (the order rotating), each call after a barrier; a
  call's time is the slowest rank's, and each figure is the median over 30-400 rounds;
- one training step (forward, cross-entropy, backward, SGD) of the seeds' MLP and CNN at a global batch of 100, on
  1 rank and on 2 ranks with DDP (50 per rank), for both libraries, and how much of the allreduce time backward
  hides: 1 - (DDP step - step under ``no_sync``) / (the same buckets allreduced alone after backward).
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


def interleaved(variants, rounds, comm):
    """The median over ``rounds`` of each variant's time, where a round runs every variant once (in an order that
    rotates from round to round), each after a barrier, and a variant's time in a round is the slowest rank's."""
    names = list(variants)
    for name in names:   # warm-up
        for _ in range(3):
            comm.Barrier()
            variants[name]()
    times = {name: [] for name in names}
    for i in range(rounds):
        for name in names[i % len(names):] + names[:i % len(names)]:
            comm.Barrier()
            start = time.perf_counter()
            variants[name]()
            times[name].append(time.perf_counter() - start)
    slowest = {name: [max(per_rank) for per_rank in zip(*comm.allgather(times[name]))] for name in names}
    return {name: statistics.median(slowest[name]) for name in names}


def polled(array):
    """mpi4py's non-blocking allreduce, polled until done."""
    from mpi4py import MPI
    request = MPI.COMM_WORLD.Iallreduce(MPI.IN_PLACE, array)
    while not request.Test():
        pass


def allreduce_rows(lib, quick):
    """GB/s of ``lib``'s all_reduce (and, for ember, of a group made under ``TORCH_DISTRIBUTED_DEBUG=OFF``) beside
    raw mpi4py ``Allreduce`` on the same buffer, in the same rounds, for 1 KB-64 MB."""
    import numpy as np
    from mpi4py import MPI

    import ember
    dist = lib.distributed
    comm = MPI.COMM_WORLD
    unchecked = None
    if lib is ember:
        os.environ["TORCH_DISTRIBUTED_DEBUG"] = "OFF"   # read when a group is made: this one skips the agreement check
        unchecked = dist.new_group()
        del os.environ["TORCH_DISTRIBUTED_DEBUG"]
    rows = []
    for size in [2 ** k for k in range(10, 27, 2 if quick else 1)]:   # bytes: 1 KB ... 64 MB
        array = np.zeros(size // 4, np.float32)   # sums of zeros stay zeros: every round reduces the same values
        tensor = lib.from_numpy(array)            # the same memory as ``array``
        variants = {"raw": lambda a=array: comm.Allreduce(MPI.IN_PLACE, a), "raw_nb": lambda a=array: polled(a),
                    lib.__name__: lambda t=tensor: dist.all_reduce(t)}
        if unchecked is not None:
            variants["unchecked"] = lambda t=tensor: dist.all_reduce(t, group=unchecked)
        rounds = max(30, min(400, (1 << 29) // size)) // (4 if quick else 1)
        medians = interleaved(variants, rounds, comm)
        rows.append({"bytes": size, "rounds": rounds, **{name: size / t / 1e9 for name, t in medians.items()}})
    return rows


def model(lib, name):
    """The seeds' MLP or CNN (examples/mnist_mlp.py, examples/mnist_cnn.py) built with ``lib``, and a batch."""
    nn, F = lib.nn, lib.nn.functional
    lib.manual_seed(0)

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.fc3 = nn.Linear(784, 256), nn.Linear(256, 128), nn.Linear(128, 10)

        def forward(self, x):
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x.view(-1, 784))))))

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 32, 3), nn.Conv2d(32, 64, 3)
            self.dropout1, self.dropout2 = nn.Dropout2d(0.25), nn.Dropout(0.5)
            self.fc1, self.fc2 = nn.Linear(9216, 128), nn.Linear(128, 10)

        def forward(self, x):
            x = self.dropout1(F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2))
            return self.fc2(self.dropout2(F.relu(self.fc1(lib.flatten(x, 1)))))
    return (MLP if name == "MLP" else CNN)(), lib.randn(100, 1, 28, 28)


def ddp_rows(lib, quick):
    dist = lib.distributed
    DDP = lib.nn.parallel.DistributedDataParallel
    rank, world = dist.get_rank(), dist.get_world_size()
    rows = []
    for name, repeats in [("MLP", 10 if quick else 30), ("CNN", 3 if quick else 8)]:
        net, x = model(lib, name)
        share = slice(rank * 100 // world, (rank + 1) * 100 // world)
        x, y = x[share], lib.randint(0, 10, (100,))[share]
        wrapped = DDP(net) if world > 1 else net
        opt = lib.optim.SGD(wrapped.parameters(), lr=0.01, momentum=0.9)

        def step():
            opt.zero_grad()
            lib.nn.functional.cross_entropy(wrapped(x), y).backward()
            opt.step()
            dist.barrier()
        row = {"model": name, "ranks": world, "step": median_time(step, repeats)}
        if world > 1:
            def local_step():
                with wrapped.no_sync():
                    step()

            def comm_alone():
                for bucket in buckets:
                    dist.all_reduce(bucket)
                dist.barrier()
            buckets = ([b.buffer for b in wrapped._buckets] if hasattr(wrapped, "_buckets") else
                       [lib.zeros(sum(p.numel() for p in net.parameters()))])   # torch: one 25 MB bucket holds all
            row["no_sync"] = median_time(local_step, repeats)
            row["allreduce"] = median_time(comm_alone, repeats)
            exposed = min(max(row["step"] - row["no_sync"], 0), row["allreduce"])
            row["hidden"] = 1 - exposed / row["allreduce"]
        rows.append(row)
    return rows


def worker(name, quick, allreduce_only):
    import importlib
    lib = importlib.import_module(name)
    dist = lib.distributed
    if name == "torch":   # gloo's own TCP rendezvous; MPI's launcher gives rank and size
        lib.set_num_threads(1)
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{os.environ['BENCH_PORT']}",
                                rank=int(os.environ["PMI_RANK"]), world_size=int(os.environ["PMI_SIZE"]))
    else:
        dist.init_process_group("gloo")
    result = {"allreduce": allreduce_rows(lib, quick) if dist.get_world_size() > 1 else [],
              "ddp": [] if allreduce_only else ddp_rows(lib, quick)}
    if dist.get_rank() == 0:
        print(json.dumps(result), flush=True)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(lib, ranks, flags):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", BENCH_PORT=str(free_port()),
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    mpiexec = pathlib.Path(sys.executable).parent / "mpiexec"
    out = subprocess.run([str(mpiexec), "-n", str(ranks), sys.executable, __file__, "--worker", lib] + flags,
                         env=env, capture_output=True, text=True, timeout=1800)
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", choices=["ember", "torch"])
    parser.add_argument("--quick", action="store_true", help="fewer sizes and steps")
    parser.add_argument("--no-torch", action="store_true", help="ember alone")
    parser.add_argument("--allreduce-only", action="store_true", help="the allreduce table alone (no DDP steps)")
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.quick, args.allreduce_only)
    flags = ["--quick"] * args.quick + ["--allreduce-only"] * args.allreduce_only
    libs = ["ember"] if args.no_torch else ["ember", "torch"]
    print("load average (1, 5, 15 min) before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    two = {lib: launch(lib, 2, flags) for lib in libs}
    one = {} if args.allreduce_only else {lib: launch(lib, 1, flags) for lib in libs}
    print("load average after: {:.2f} {:.2f} {:.2f}\n".format(*os.getloadavg()))
    torch_column = "torch" in two
    print("| buffer | mpi4py Allreduce GB/s | mpi4py Iallreduce GB/s | ember all_reduce GB/s (ratio) | with "
          "TORCH_DISTRIBUTED_DEBUG=OFF (ratio) |" + (" PyTorch gloo all_reduce GB/s (ratio) |" if torch_column else "")
          + "\n|---|---|---|---|---|" + ("---|" if torch_column else ""))
    for i, row in enumerate(two["ember"]["allreduce"]):
        size, best = row["bytes"], max(row["raw"], row["raw_nb"])
        label = f"{size >> 20} MB" if size >= 1 << 20 else f"{size >> 10} KB"
        line = (f"| {label} | {row['raw']:.3f} | {row['raw_nb']:.3f} | {row['ember']:.3f} ({row['ember'] / best:.2f}) "
                f"| {row['unchecked']:.3f} ({row['unchecked'] / best:.2f}) |")
        if torch_column:
            theirs = two["torch"]["allreduce"][i]
            line += f" {theirs['torch']:.3f} ({theirs['torch'] / max(theirs['raw'], theirs['raw_nb']):.2f}) |"
        print(line)
    if args.allreduce_only:
        return
    print("\n| model | library | 1 rank step (batch 100) | 2 ranks DDP step (50 each) | 2 ranks, no_sync | "
          "allreduce alone | hidden behind backward |\n|---|---|---|---|---|---|---|")
    for lib in libs:
        for single, ddp in zip(one[lib]["ddp"], two[lib]["ddp"]):
            print(f"| {ddp['model']} | {lib} | {single['step'] * 1e3:.1f} ms | {ddp['step'] * 1e3:.1f} ms | "
                  f"{ddp['no_sync'] * 1e3:.1f} ms | {ddp['allreduce'] * 1e3:.1f} ms | {100 * ddp['hidden']:.0f} % |")


if __name__ == "__main__":
    main()
