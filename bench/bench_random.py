"""Random-number speed: ``rand(10**7)`` and ``randn(10**7)`` (float32) in ember, PyTorch (its threads, and one
thread) and NumPy's own generator, each timed in warmed-up blocks, rounds alternating, medians reported.
ember draws PyTorch's exact stream, so its kernels re-create PyTorch's float arithmetic step by step in NumPy.
    PYTHONPATH=. python bench/bench_random.py [--size 10000000] [--rounds 5]
"""
import argparse

import numpy
from bench_core import _median_times

import ember

try:
    import torch
except ImportError:  # the benchmark still reports ember and NumPy
    torch = None


def _torch_one_thread(function):
    def run():
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            function()
        finally:
            torch.set_num_threads(threads)
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10 ** 7)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    n, rng = args.size, numpy.random.default_rng(0)
    cases = [("rand", lambda: ember.rand(n), torch and (lambda: torch.rand(n)),
              lambda: rng.random(n, dtype=numpy.float32)),
             ("randn", lambda: ember.randn(n), torch and (lambda: torch.randn(n)),
              lambda: rng.standard_normal(n, dtype=numpy.float32))]
    print(f"| case (n = {n}) | ember | PyTorch | PyTorch, 1 thread | NumPy Generator | ember / PyTorch | "
          "ember / PyTorch 1 thread | ember / NumPy |")
    print("|---|---|---|---|---|---|---|---|")
    for name, mine, theirs, numpys in cases:
        one = theirs and _torch_one_thread(theirs)
        t_mine, t_theirs, t_one, t_numpy = _median_times([mine, theirs, one, numpys], 1, args.rounds)
        print(f"| {name} | {t_mine * 1e3:.0f} ms | {t_theirs * 1e3:.0f} ms | {t_one * 1e3:.0f} ms | "
              f"{t_numpy * 1e3:.0f} ms | {t_mine / t_theirs:.1f} | {t_mine / t_one:.1f} | {t_mine / t_numpy:.1f} |")


if __name__ == "__main__":
    main()
