"""Random-number speed: 10**7 samples from ember, PyTorch and NumPy's own generator, each library at its default
thread count and at one thread, timed in warmed-up blocks, rounds alternating, medians reported.
ember draws PyTorch's exact stream, so its kernels re-create PyTorch's float arithmetic step by step in NumPy; its
samplers draw the generator's words on one thread while the others transform them (``ember.set_num_threads``).
    PYTHONPATH=. python bench/bench_random.py [--size 10000000] [--rounds 5] [--cases randn,rand,...]
"""
import argparse

import numpy
from bench_core import _median_times

import ember
from ember.ops import _parallel

try:
    import torch
except ImportError:  # the benchmark still reports ember and NumPy
    torch = None


def _one_thread(set_threads, get_threads, function):
    def run():
        threads = get_threads()
        set_threads(1)
        try:
            function()
        finally:
            set_threads(threads)
    return run


def _cases(n):
    """name -> (make(lib) -> function of no arguments, NumPy's equivalent or None)."""
    rng = numpy.random.default_rng(0)

    def filled(dtype, method, *args):
        def make(lib):
            tensor = lib.empty(n, dtype=getattr(lib, dtype))
            return lambda: getattr(tensor, method)(*args)
        return make
    return {
        "rand": (lambda lib: lambda: lib.rand(n), lambda: rng.random(n, dtype=numpy.float32)),
        "randn": (lambda lib: lambda: lib.randn(n), lambda: rng.standard_normal(n, dtype=numpy.float32)),
        "rand float64": (lambda lib: lambda: lib.rand(n, dtype=lib.float64), lambda: rng.random(n)),
        "randn float64": (lambda lib: lambda: lib.randn(n, dtype=lib.float64), lambda: rng.standard_normal(n)),
        "normal_": (filled("float32", "normal_"), None),
        "normal_(mean=2 std=3)": (filled("float32", "normal_", 2.0, 3.0), None),
        "uniform_(from=-1 to=2)": (filled("float32", "uniform_", -1.0, 2.0), None),
        "normal_ float64": (filled("float64", "normal_"), None),
        "uniform_ float64": (filled("float64", "uniform_"), None),
        "randint(high=10)": (lambda lib: lambda: lib.randint(0, 10, (n,)), lambda: rng.integers(0, 10, n)),
        "randint(high=2**40)": (lambda lib: lambda: lib.randint(0, 2 ** 40, (n,)), lambda: rng.integers(0, 2 ** 40, n)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10 ** 7)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cases", default="rand,randn", help="comma-separated names, or 'all'")
    args = parser.parse_args()
    cases = _cases(args.size)
    names = list(cases) if args.cases == "all" else args.cases.split(",")
    print(f"| case (n = {args.size}, ember {ember.get_num_threads()} threads, PyTorch "
          f"{torch.get_num_threads() if torch else '-'}) | ember | ember, 1 thread | PyTorch | PyTorch, 1 thread | "
          "NumPy Generator | ember / PyTorch | ember / PyTorch, 1 thread | ember / NumPy |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in names:
        make, numpys = cases[name]
        mine = make(ember)
        # ember's intra-op pool alone (ember.set_num_threads also sets the BLAS threads, at ~3 ms a call)
        mine_one = _one_thread(_parallel.set_num_threads, _parallel.num_threads, mine)
        theirs = torch and make(torch)
        theirs_one = torch and _one_thread(torch.set_num_threads, torch.get_num_threads, theirs)
        t_mine, t_mine_one, t_theirs, t_one, t_numpy = _median_times([mine, mine_one, theirs, theirs_one, numpys],
                                                                     1, args.rounds)
        print(f"| {name} | {t_mine * 1e3:.0f} ms | {t_mine_one * 1e3:.0f} ms | {t_theirs * 1e3:.0f} ms | "
              f"{t_one * 1e3:.0f} ms | {t_numpy * 1e3:.0f} ms | {t_mine / t_theirs:.1f} | {t_mine_one / t_one:.1f} | "
              f"{t_mine / t_numpy:.1f} |", flush=True)


if __name__ == "__main__":
    main()
