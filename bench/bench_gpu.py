"""ember on CUDA (CuPy) beside PyTorch on CUDA: step times and their ratios, for a machine with an NVIDIA GPU.

    PYTHONPATH=$PWD python bench/bench_gpu.py [--quick] [--json out.json]

Cases: a 4096x4096 float32 matmul (also against CuPy's own cuBLAS call); an epoch of the seeds' MLP and CNN over
60,000 Fashion-MNIST-shaped images already on the GPU (batch 64; random data of that shape: the time does not depend
on the values); a ResNet-18 training step at batch 64 and 8, 224x224; a TransformerEncoderLayer training step (d_model 512,
8 heads, sequence 128, batch 32); and the per-op overhead (a chain of small adds). Both libraries build each model
from the same code (``bench_models``), run in this one process in turn, and are timed between device
synchronisations after warm-up steps; a row is the median of its repeats.
"""
import argparse
import json
import statistics
import sys
import time

import numpy

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import bench_models  # noqa: E402


def timed(lib, work, repeats, warmup=2):
    """Median seconds of ``work()`` over ``repeats`` runs after ``warmup``, synchronising the device around each."""
    for _ in range(warmup):
        work()
    lib.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        lib.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matmul_case(lib, n=4096):
    a, b = lib.randn(n, n, device="cuda"), lib.randn(n, n, device="cuda")
    return lambda: a @ b


def epoch_case(lib, build, batch=64, count=60000):
    lib.manual_seed(0)
    model = build(lib).to("cuda")
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images = lib.randn(count, 1, 28, 28, device="cuda")
    labels = lib.randint(0, 10, (count,), device="cuda")
    criterion = lib.nn.CrossEntropyLoss()

    def epoch():
        for start in range(0, count, batch):
            bench_models.train_step(lib, model, optimizer, criterion, images[start:start + batch],
                                    labels[start:start + batch])
    return epoch


def step_case(lib, build, x_shape, classes, tokens=False):
    lib.manual_seed(0)
    model = build(lib).to("cuda")
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = numpy.random.default_rng(0)
    if tokens:
        x = lib.tensor(rng.integers(0, classes, x_shape), device="cuda")
        y = lib.tensor(rng.integers(0, classes, x_shape[0] * x_shape[1]), device="cuda")
    else:
        x = lib.tensor(rng.standard_normal(x_shape, dtype=numpy.float32), device="cuda")
        y = lib.tensor(rng.integers(0, classes, x_shape[0]), device="cuda")
    criterion = lib.nn.CrossEntropyLoss()
    return lambda: bench_models.train_step(lib, model, optimizer, criterion, x, y)


def encoder_layer(lib):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(1000, 512)
            self.layer = nn.TransformerEncoderLayer(512, 8, dim_feedforward=2048, batch_first=True)
            self.fc = nn.Linear(512, 1000)

        def forward(self, tokens):
            return self.fc(self.layer(self.embedding(tokens))).flatten(0, 1)
    return Net()


def overhead_case(lib, ops=1000):
    x = lib.ones(16, device="cuda")

    def chain():
        y = x
        for _ in range(ops):
            y = y + 1.0
        return y
    return chain


class _CupyAsLibrary:
    """CuPy under the two names ``overhead_case`` uses, to time its own per-call cost."""

    def __init__(self, cupy):
        self.cupy = cupy

    def ones(self, n, device):
        return self.cupy.ones(n, dtype=numpy.float32)


def cases(quick):
    return {
        "matmul 4096^2 float32": (matmul_case, 5 if quick else 20),
        "MLP epoch (60k, batch 64)": (lambda lib: epoch_case(lib, bench_models.mlp), 1 if quick else 3),
        "CNN epoch (60k, batch 64)": (lambda lib: epoch_case(lib, bench_models.cnn), 1 if quick else 3),
        "ResNet-18 step (batch 64, 224)":
            (lambda lib: step_case(lib, lambda l: bench_models.resnet18(l, 1000), (64, 3, 224, 224), 1000),
             5 if quick else 10),
        # beside batch 64, the same launches with an eighth of the work: near-equal times mean the host bounds it
        "ResNet-18 step (batch 8, 224)":
            (lambda lib: step_case(lib, lambda l: bench_models.resnet18(l, 1000), (8, 3, 224, 224), 1000),
             5 if quick else 10),
        "TransformerEncoderLayer step (512, 8 heads, seq 128, b 32)":
            (lambda lib: step_case(lib, encoder_layer, (32, 128), 1000, tokens=True), 5 if quick else 20),
        "per-op overhead (1000 small adds)": (overhead_case, 5 if quick else 20),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (one warm-up)")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--only", help="comma-separated substrings of the cases to run")
    parser.add_argument("--profile", help="also write cProfile's top functions of each ember case to this file")
    args = parser.parse_args()
    import cupy
    import torch

    import ember
    print(f"GPU: {ember.cuda.get_device_name(0)}; CuPy {cupy.__version__}, NumPy {numpy.__version__}, "
          f"PyTorch {torch.__version__} (cuDNN {torch.backends.cudnn.version()})", flush=True)
    results = {}
    for name, (make, repeats) in cases(args.quick).items():
        if args.only and not any(part in name for part in args.only.split(",")):
            continue
        row = {}
        for lib in (ember, torch):
            try:
                row[lib.__name__] = timed(lib, make(lib), repeats, warmup=1 if args.quick else 2)
            except Exception as error:  # a failing case is reported, and the others still run
                row[lib.__name__] = None
                row[f"{lib.__name__}_error"] = f"{type(error).__name__}: {error}"[:300]
        if name.startswith("matmul"):   # the floor under ember: CuPy's own call
            a, b = cupy.random.standard_normal((4096, 4096), dtype=numpy.float32), cupy.random.standard_normal(
                (4096, 4096), dtype=numpy.float32)
            row["cupy"] = timed(ember, lambda: a @ b, repeats)
        if name.startswith("per-op"):
            row["cupy"] = timed(ember, overhead_case(_CupyAsLibrary(cupy)), repeats)
        if args.profile and row.get("ember") and "epoch" not in name:
            _profile(ember, make, name, args.profile)
        results[name] = row
        ratio = row["ember"] / row["torch"] if row.get("ember") and row.get("torch") else None
        extra = f"  ember/cupy {row['ember'] / row['cupy']:.2f}" if "cupy" in row and row.get("ember") else ""
        print(f"{name:60s} ember {_ms(row.get('ember'))}  torch {_ms(row.get('torch'))}  "
              f"ratio {'-' if ratio is None else f'{ratio:.2f}'}{extra}  {row.get('ember_error', '')}", flush=True)
    if args.json:
        with open(args.json, "w") as file:
            json.dump(results, file, indent=1)


def _profile(ember, make, name, path):
    import cProfile
    import io
    import pstats
    work = make(ember)
    work()
    profiler = cProfile.Profile()
    profiler.enable()
    work()
    ember.cuda.synchronize()
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
    with open(path, "a") as file:
        file.write(f"===== {name}\n{text.getvalue()}\n")


def _ms(seconds):
    return "   -    " if seconds is None else f"{seconds * 1e3:9.2f} ms"


if __name__ == "__main__":
    main()
