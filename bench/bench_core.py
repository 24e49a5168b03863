"""Framework overhead and matmul speed, ember beside PyTorch in one run.

Run with the OpenBLAS variables this shell exports unset (they slow NumPy):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_THREAD_TIMEOUT=4 python bench/bench_core.py
Each library is timed in its own warmed-up blocks, rounds alternating between them, and the median is reported.
"""
import argparse
import statistics
import time

import numpy

import ember

try:
    import torch
except ImportError:  # the benchmark still reports ember alone
    torch = None


def _median_times(functions, repeats, rounds=9):
    """Median seconds per call of each function (None: nan), timed in warmed-up blocks of ``repeats`` calls, the
    functions' blocks alternating round after round so that load on the host weighs on all of them alike."""
    present = [f for f in functions if f is not None]
    for function in present:
        function()
    samples = {id(f): [] for f in present}
    for _ in range(rounds):
        for function in present:
            start = time.perf_counter()
            for _ in range(repeats):
                function()
            samples[id(function)].append((time.perf_counter() - start) / repeats)
    return [statistics.median(samples[id(f)]) if f is not None else float("nan") for f in functions]


def overhead_case(lib, n):
    a = lib.ones(n, requires_grad=True)
    b = lib.ones(n, requires_grad=True)
    c = lib.ones(n)

    def step():
        y = (a * b + c).relu().sum()
        y.backward()
    return step


def matmul_case(lib, n, backward):
    x = lib.tensor(numpy.random.default_rng(0).standard_normal((n, n), dtype=numpy.float32), requires_grad=backward)
    w = lib.tensor(numpy.random.default_rng(1).standard_normal((n, n), dtype=numpy.float32), requires_grad=backward)

    def step():
        y = x @ w
        if backward:
            y.backward(lib.ones_like(y))
    return step


def numpy_matmul_case(n, backward):
    x = numpy.random.default_rng(0).standard_normal((n, n), dtype=numpy.float32)
    w = numpy.random.default_rng(1).standard_normal((n, n), dtype=numpy.float32)
    g = numpy.ones((n, n), numpy.float32)

    def step():
        x @ w
        if backward:
            g @ w.T
            x.T @ g
    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's own)")
    args = parser.parse_args()
    if torch is not None and args.threads:
        torch.set_num_threads(args.threads)
    rows = []
    for n in (1, 1000):
        rows.append((f"(a*b+c).relu().sum() fwd+bwd, n={n}", overhead_case(ember, n),
                     overhead_case(torch, n) if torch else None, 2000, None))
    for backward in (False, True):
        name = f"1024x1024 float32 matmul {'fwd+bwd' if backward else 'fwd'}"
        rows.append((name, matmul_case(ember, 1024, backward), matmul_case(torch, 1024, backward) if torch else None,
                     10, numpy_matmul_case(1024, backward)))
    print(f"{'case':45s} {'ember':>11s} {'torch':>11s} {'ember/torch':>12s} {'ember/numpy':>12s}")
    for name, ember_step, torch_step, repeats, numpy_step in rows:
        ember_time, torch_time, numpy_time = _median_times((ember_step, torch_step, numpy_step), repeats)
        print(f"{name:45s} {ember_time * 1e6:9.1f}us {torch_time * 1e6:9.1f}us {ember_time / torch_time:12.2f} "
              f"{ember_time / numpy_time:12.2f}")


if __name__ == "__main__":
    main()
