"""Mixed precision, ember beside PyTorch in one run: the seeds' CNN training step under bfloat16 autocast and in
float32, the memory a batch's activations take in 16 vs 32 bits, and autocast's overhead per op on a tiny tensor.

Run with the OpenBLAS variables this shell exports unset (they slow NumPy):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_THREAD_TIMEOUT=4 PYTHONPATH=.:examples \
        python bench/bench_amp.py
Each library is timed in its own warmed-up blocks, rounds alternating, and the median is reported.
"""
import argparse
import statistics
import time
import tracemalloc

import numpy

import ember
from ember.amp import autocast_mode

try:
    import torch
except ImportError:  # the benchmark still reports ember alone
    torch = None


def _median_times(functions, repeats, rounds):
    """Median seconds per call of each function (None: nan), in warmed-up blocks that alternate round by round."""
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


def _cnn(lib):
    """The seeds' CNN (examples/mnist_cnn.py), built with ``lib``'s nn, in eval mode (no dropout randomness)."""
    nn = lib.nn
    lib.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Linear(128, 10), nn.LogSoftmax(1))


def _batch(lib, size):
    rng = numpy.random.default_rng(0)
    return (lib.tensor(rng.standard_normal((size, 1, 28, 28), dtype=numpy.float32)),
            lib.tensor(rng.integers(0, 10, size)))


def training_step(lib, amp, batch):
    """One AMP-recipe step of the CNN (autocast + GradScaler), or the float32 step when ``amp`` is False."""
    model = _cnn(lib)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    scaler = lib.amp.GradScaler("cpu", enabled=amp)
    x, y = _batch(lib, batch)

    def step():
        optimizer.zero_grad()
        with lib.autocast("cpu", dtype=lib.bfloat16, enabled=amp):
            loss = lib.nn.functional.nll_loss(model(x), y)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    return step


def activation_bytes(mode, batch):
    """Bytes ember holds after the CNN's forward pass and loss (what backward needs), allocated during the forward,
    and how many of them are the cached 16-bit copies of the weights: ``mode`` is "float32", "autocast <dtype>" or
    a 16-bit dtype name for the whole model and input converted to it."""
    model = _cnn(ember)
    x, y = _batch(ember, batch)
    ember.ones(1, dtype=ember.bfloat16)   # imports ml_dtypes before measuring
    region = ember.autocast("cpu", dtype=getattr(ember, mode.split()[-1]), enabled=mode.startswith("autocast"))
    if mode in ("float16", "bfloat16"):
        model, x = model.to(getattr(ember, mode)), x.to(getattr(ember, mode))
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    with region:
        loss = ember.nn.functional.nll_loss(model(x), y)
        copies = sum(cast._data.nbytes for _, cast in autocast_mode._state.cache.values())
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    loss.float().backward()
    return held, copies


def overhead_case(lib, inside, calls=1000):
    """``calls`` tiny listed ops (mm of 2x2 bfloat16 tensors, nothing to cast), inside an autocast region or not;
    the region is entered once per block (entering installs ember's dispatch hook), so the time is the ops'."""
    a = lib.ones(2, 2, dtype=lib.bfloat16)
    region = lib.autocast("cpu", enabled=inside)

    def step():
        with region:
            for _ in range(calls):
                lib.mm(a, a)
    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"{'case':52s} {'ember':>11s} {'torch':>11s} {'ember/torch':>12s}")
    times = {}
    for amp in (False, True):
        name = f"CNN training step, batch {args.batch}, " + ("bfloat16 autocast" if amp else "float32")
        pair = (training_step(ember, amp, args.batch), training_step(torch, amp, args.batch) if torch else None)
        times[amp] = _median_times(pair, 1, args.rounds)
        print(f"{name:52s} {times[amp][0] * 1e3:9.1f}ms {times[amp][1] * 1e3:9.1f}ms "
              f"{times[amp][0] / times[amp][1]:12.2f}")
    print(f"{'  autocast / float32 step time':52s} {times[True][0] / times[False][0]:11.2f} "
          f"{times[True][1] / times[False][1]:11.2f}")
    full, _ = activation_bytes("float32", args.batch)
    print(f"ember: memory held for backward after a forward, batch {args.batch}: float32 {full / 2**20:.1f} MiB")
    for mode in ("autocast bfloat16", "autocast float16", "bfloat16", "float16"):
        held, copies = activation_bytes(mode, args.batch)
        label = mode if mode.startswith("autocast") else mode + " model"
        print(f"  {label:24s} {held / 2**20:7.1f} MiB ({held / full:.2f}x; activations alone "
              f"{(held - copies) / full:.2f}x, weight copies {copies / 2**20:.1f} MiB)")
    for lib in (ember, torch) if torch else (ember,):
        outside, inside = (t / 1000 for t in _median_times((overhead_case(lib, False), overhead_case(lib, True)), 1,
                                                             args.rounds))
        print(f"{lib.__name__}: bfloat16 2x2 mm {outside * 1e6:.2f}us, inside autocast {inside * 1e6:.2f}us "
              f"({inside / outside:.2f}x)")


if __name__ == "__main__":
    main()
