"""Training-step time of a 2-layer LSTM and GRU classifier (hidden 128, sequence 28, batch 100), ember beside PyTorch.

Run with the OpenBLAS variables this shell exports unset (they slow NumPy), one thread as the stable anchor:
    PYTHONPATH=$PWD env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_THREAD_TIMEOUT=4 python bench/bench_rnn.py --threads 1
Each library runs in its own process, rounds alternating; a step is forward, cross-entropy, backward and an
SGD-momentum update on random (100, 28, 28) inputs (batch_first, as the MNIST row-by-row tutorials). Prints the
median wall-clock and CPU (process) time per step of each library and ember's ratios to PyTorch's; on a loaded
machine the 1-thread CPU-time ratio is the stable one.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def step_times(lib_name, mode, steps, warmup):
    """Seconds per training step of ``mode`` ('LSTM' or 'GRU') in the library ``lib_name``."""
    import numpy
    lib = __import__(lib_name)
    if lib_name == "torch":
        lib.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = getattr(nn, mode)(28, 128, num_layers=2, batch_first=True)
            self.fc = nn.Linear(128, 10)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.fc(out[:, -1])

    lib.manual_seed(0)
    model = Net()
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    rng = numpy.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((100, 28, 28), dtype=numpy.float32))
    y = lib.tensor(rng.integers(0, 10, 100))
    times = []
    for i in range(warmup + steps):
        start, cpu = time.perf_counter(), time.process_time()
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        if i >= warmup:
            times.append((time.perf_counter() - start, time.process_time() - cpu))
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1, help="BLAS/torch threads in each child (default 1)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10, help="timed steps per round")
    parser.add_argument("--modes", default="LSTM,GRU")
    parser.add_argument("--child", nargs=2, metavar=("LIB", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(step_times(args.child[0], args.child[1], args.steps, warmup=3)))
        return
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads),
               MKL_NUM_THREADS=str(args.threads))
    print(f"threads={args.threads} rounds={args.rounds} steps/round={args.steps}  (median ms per training step)")
    print("mode   ember wall  torch wall  ratio   ember cpu   torch cpu  ratio")
    for mode in args.modes.split(","):
        times = {"ember": [], "torch": []}
        for _ in range(args.rounds):
            for lib in times:
                out = subprocess.run([sys.executable, __file__, "--steps", str(args.steps), "--child", lib, mode],
                                     env=env, capture_output=True, text=True, check=True, timeout=600)
                times[lib] += json.loads(out.stdout)
        row = f"{mode:5s}"
        for kind in (0, 1):
            e, t = (statistics.median(step[kind] for step in times[lib]) * 1e3 for lib in ("ember", "torch"))
            row += f"  {e:10.1f}  {t:10.1f}  {e / t:5.2f}"
        print(row)


if __name__ == "__main__":
    main()
