"""Per-convolution time of Winograd's F(2x2, 3x3) against the columns' (im2col) path, at one thread.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 PYTHONPATH=$PWD python bench/bench_winograd.py

For each (batch, in channels, out channels, map size, padding): the forward, the output gradient moved (columns)
or transformed (Winograd), the input gradient and the weight gradient, min of 7 calls in process time, ms; the
shapes are the seeds' conv2, ResNet-18's stages at 224x224 (batch 8) and 32x32 (batch 32), and a thin layer.
"""
import time

import numpy

import ember
from ember.ops import _conv_winograd as winograd, conv

CASES = [(100, 32, 64, 26, 0), (8, 64, 64, 56, 1), (8, 128, 128, 28, 1), (8, 256, 256, 14, 1), (8, 512, 512, 7, 1),
         (32, 64, 64, 32, 1), (32, 128, 128, 16, 1), (32, 256, 256, 8, 1), (100, 16, 32, 14, 2)]


def best_ms(work, repeats=7):
    """The fastest of ``repeats`` calls after one warm-up, in process-time milliseconds."""
    work()
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best * 1e3


def _row(times):
    return " / ".join(f"{t:.1f}" for t in times) + f" = {sum(times):.1f}"


def main():
    ember.set_num_threads(1)
    one = (1, 1)
    print("case (N, C, O, size, padding): forward / g moved / input grad / weight grad = total, ms")
    for N, C, out_channels, size, p in CASES:
        rng = numpy.random.default_rng(0)
        x = rng.standard_normal((N, C, size, size), numpy.float32)
        w = rng.standard_normal((out_channels, C, 3, 3), numpy.float32) * 0.1
        padding = (p, p)
        winograd.MIN_CHANNELS = 1 << 30   # the columns' path first
        y, columns = conv._conv_columns(numpy, x, w, [size + 2 * p - 2] * 2, one, padding, one, 1, keep=True)
        g = rng.standard_normal(y.shape, numpy.float32)
        batch_last = conv._batch_last(g.shape[2:], 1, w)
        moved = conv._grouped(numpy, g, 1, batch_last)
        direct = [best_ms(lambda: conv._conv_columns(numpy, x, w, list(y.shape[2:]), one, padding, one, 1, keep=True)),
                  best_ms(lambda: conv._grouped(numpy, g, 1, batch_last)),
                  best_ms(lambda: conv._conv_input(numpy, g, w, x.shape, one, padding, one, 1, moved)),
                  best_ms(lambda: conv._conv_weight(numpy, x, g, w.shape, one, padding, one, 1, columns, moved))]
        winograd.MIN_CHANNELS = 1
        _, source = winograd.forward(x, w, padding)
        transformed = winograd.transformed_grad(g, x.shape[2:], padding)
        tiles = [best_ms(lambda: winograd.forward(x, w, padding)),
                 best_ms(lambda: winograd.transformed_grad(g, x.shape[2:], padding)),
                 best_ms(lambda: winograd.input_grad(g, w, x.shape, padding, transformed)),
                 best_ms(lambda: winograd.weight_grad(x, g, w.shape, padding, source, transformed))]
        print(f"{(N, C, out_channels, size, p)}: columns {_row(direct)} | Winograd {_row(tiles)} "
              f"({sum(tiles) / sum(direct):.2f}x)", flush=True)


if __name__ == "__main__":
    main()
