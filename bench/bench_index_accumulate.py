"""Accumulating index writes on the NumPy path: the gradient of ``x[idx]``, ``index_add_`` along dims 0 and 1 and
``index_put_(accumulate=True)``, x (1000, 128) float32 (transposed for dim 1) with 2,048 random row indices;
best of 7 blocks of process CPU time, ms per call. For an A/B, run it once per checkout (PYTHONPATH picks ember):
    PYTHONPATH=. python bench/bench_index_accumulate.py
"""
import time

import numpy

import ember


def _best(function, blocks=7, seconds=0.15):
    best = float("inf")
    for _ in range(blocks):
        start, calls = time.process_time(), 0
        while time.process_time() - start < seconds:
            function()
            calls += 1
        best = min(best, (time.process_time() - start) / calls)
    return best * 1e3


def main():
    """Times the four writes and prints one line: where ember came from, then name and ms for each."""
    rng = numpy.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((1000, 128)).astype(numpy.float32), requires_grad=True)
    idx = ember.tensor(rng.integers(0, 1000, 2048))
    rows = ember.tensor(rng.standard_normal((2048, 128)).astype(numpy.float32))
    columns = ember.tensor(rng.standard_normal((128, 2048)).astype(numpy.float32))
    target, wide = ember.zeros(1000, 128), ember.zeros(128, 1000)

    def grad_getitem():
        x.grad = None
        x[idx].backward(rows)

    cases = {"grad_getitem": grad_getitem,
             "index_add_dim0": lambda: target.index_add_(0, idx, rows),
             "index_add_dim1": lambda: wide.index_add_(1, idx, columns),
             "index_put_accumulate": lambda: target.index_put_((idx,), rows, accumulate=True)}
    print(ember.__file__, " ".join(f"{name} {_best(function):.3f}" for name, function in cases.items()))


if __name__ == "__main__":
    main()
