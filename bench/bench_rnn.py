"""Recurrent layers, ember beside PyTorch: training-step and no_grad forward time of 2-layer LSTM, GRU and RNN
classifiers (hidden 128, sequence 28, batch 100 as the MNIST row-by-row tutorials; hidden 1024, sequence 35,
batch 20 as the word-language-model), batch_first both ways and bidirectional.

Run with the OpenBLAS variables this shell exports unset (they slow NumPy), one thread as the stable anchor:
    PYTHONPATH=$PWD env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_rnn.py --threads 1
(``--ember-paths before=/old/tree,after=$PWD`` times several ember trees beside the same PyTorch runs).
Each library runs in its own process per case, rounds alternating. A training step is forward, cross-entropy on
the last time step, backward and an SGD-momentum update on fixed random inputs; "eval" is the forward alone under
no_grad in eval mode. Prints the median CPU (process) time per step of each library and ember's ratio to PyTorch's
(on a loaded machine the 1-thread CPU-time ratio is the stable one).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

# name: (mode, input, hidden, sequence, batch, extra layer arguments, timed steps per round)
CASES = {
    "lstm-128-bf": ("LSTM", 28, 128, 28, 100, {"batch_first": True}, 10),
    "gru-128-bf": ("GRU", 28, 128, 28, 100, {"batch_first": True}, 10),
    "lstm-128": ("LSTM", 28, 128, 28, 100, {}, 10),
    "gru-128": ("GRU", 28, 128, 28, 100, {}, 10),
    "lstm-128-bidir": ("LSTM", 28, 128, 28, 100, {"batch_first": True, "bidirectional": True}, 6),
    "gru-128-bidir": ("GRU", 28, 128, 28, 100, {"batch_first": True, "bidirectional": True}, 6),
    "rnn-tanh-128": ("RNN", 28, 128, 28, 100, {"batch_first": True}, 10),
    "rnn-relu-128": ("RNN", 28, 128, 28, 100, {"batch_first": True, "nonlinearity": "relu"}, 10),
    "lstm-1024": ("LSTM", 1024, 1024, 35, 20, {}, 3),
    "gru-1024": ("GRU", 1024, 1024, 35, 20, {}, 3),
    "lstm-1024-bf": ("LSTM", 1024, 1024, 35, 20, {"batch_first": True}, 3),
}


def step_times(lib_name, case, steps, warmup):
    """CPU seconds per training step and per no_grad forward of ``case`` in the library ``lib_name``."""
    import numpy
    lib = __import__(lib_name)
    if lib_name == "torch":
        lib.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    nn = lib.nn
    mode, features, hidden, length, batch, extra, _ = CASES[case]
    directions = 2 if extra.get("bidirectional") else 1
    batch_first = extra.get("batch_first", False)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = getattr(nn, mode)(features, hidden, num_layers=2, **extra)
            self.fc = nn.Linear(hidden * directions, 10)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.fc(out[:, -1] if batch_first else out[-1])

    lib.manual_seed(0)
    model = Net()
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    rng = numpy.random.default_rng(0)
    shape = (batch, length, features) if batch_first else (length, batch, features)
    x = lib.tensor(rng.standard_normal(shape, dtype=numpy.float32))
    y = lib.tensor(rng.integers(0, 10, batch))

    def train():
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()

    def evaluate():
        with lib.no_grad():
            model(x)

    result = {}
    for name, run in (("train", train), ("eval", evaluate)):
        model.train(name == "train")
        times = []
        for i in range(warmup + steps):
            cpu = time.process_time()
            run()
            if i >= warmup:
                times.append(time.process_time() - cpu)
        result[name] = times
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1, help="BLAS/torch threads in each child (default 1)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated: " + ", ".join(CASES))
    parser.add_argument("--ember-paths", default="",
                        help="compare ember trees: comma-separated LABEL=PATH, each child run with PYTHONPATH=PATH")
    parser.add_argument("--child", nargs=3, metavar=("LIB", "CASE", "STEPS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(step_times(args.child[0], args.child[1], int(args.child[2]), warmup=2)))
        return
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads),
               MKL_NUM_THREADS=str(args.threads))
    variants = dict(item.split("=", 1) for item in args.ember_paths.split(",")) if args.ember_paths else \
        {"ember": env.get("PYTHONPATH", "")}
    print(f"threads={args.threads} rounds={args.rounds}  (median CPU ms per step; ratio = ember / torch)")
    print(f"{'case':16s} {'':8s} {'train':>9s} {'ratio':>6s} {'eval':>9s} {'ratio':>6s}")
    for case in args.cases.split(","):
        runs = dict.fromkeys(list(variants) + ["torch"])
        times = {run: {"train": [], "eval": []} for run in runs}
        for _ in range(args.rounds):
            for run, kinds in times.items():
                lib = "torch" if run == "torch" else "ember"
                child_env = env if run == "torch" else dict(env, PYTHONPATH=variants[run])
                out = subprocess.run([sys.executable, __file__, "--child", lib, case, str(CASES[case][-1])],
                                     env=child_env, capture_output=True, text=True, check=True, timeout=1200)
                for kind, values in json.loads(out.stdout).items():
                    kinds[kind] += values
        medians = {run: {kind: statistics.median(values) * 1e3 for kind, values in kinds.items()}
                   for run, kinds in times.items()}
        for run, kinds in medians.items():
            row = f"{case if run == next(iter(runs)) else '':16s} {run:8s}"
            for kind in ("train", "eval"):
                row += f" {kinds[kind]:9.1f} {kinds[kind] / medians['torch'][kind]:6.2f}"
            print(row, flush=True)


if __name__ == "__main__":
    main()
