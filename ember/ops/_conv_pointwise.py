"""Pointwise (1x1, stride 1, unpadded) convolutions over maps of ``MIN_POSITIONS`` or more positions, in the
(N, C, *s) layout as it comes: per sample and group, y[n] = w @ x[n] over the (C, P) matrix of its positions, so
the input, output and gradients need no transposing copy (over fewer positions, one matmul of the batch's columns
does better, and the general path takes them)."""
import math

import numpy

from . import _blas, _buffers, _parallel

MIN_POSITIONS = 32
"""Fewest positions per sample for a matmul per sample, whatever the weight's size."""

SMALL_WEIGHT = 1 << 16
"""Output times input channels at most for a matmul per sample over maps of ``MIN_POSITIONS / 2`` positions (4x4):
thread CPU time of forward / forward and backward at batch 32, per sample against the columns' path: 64 -> 384
channels 0.25 / 0.99 against 0.46 / 1.35 ms, 96 -> 576 0.52 / 2.29 against 0.86 / 2.72; 256 -> 512 1.63 / 6.83
against 1.73 / 5.36 (the per-sample weight gradients lose on large weights); over 2x2 maps the columns win."""

WEIGHT_WORK = 1 << 22
"""Elements of the per-sample weight gradients summed at once (the batch is taken in parts of this size)."""


def applies(w, stride, padding, spatial, groups):
    """Whether a convolution with weight ``w`` (or its shape) over ``spatial`` input maps runs here."""
    shape = getattr(w, "shape", w)
    positions = math.prod(spatial)
    return (all(k == 1 for k in shape[2:]) and all(s == 1 for s in stride) and not any(padding)
            and (positions >= MIN_POSITIONS or 2 * positions >= MIN_POSITIONS and shape[0] * shape[1] <= SMALL_WEIGHT)
            and not (groups > 1 and shape[1] == 1))


def _split(a, groups):
    """a (N, C, *s) as (N, G, C/G, P)."""
    return a.reshape(a.shape[0], groups, a.shape[1] // groups, math.prod(a.shape[2:]))


def _weight(w, groups):
    """w (O, C/G, 1, ...) as (G, O/G, C/G)."""
    return w.reshape(groups, w.shape[0] // groups, w.shape[1])


PART_WORK = 1 << 21
"""Multiply-adds per part of the batch at least, where a forward's products run in parts at once (~20-40 us of
work a part against a hand-off's ~15 us: MobileNetV2's 8x8 layers, 9-13 M multiply-adds, then use both cores)."""


def forward(xp, x, w, groups, epilogue=None):
    """y (N, O, *s) = w @ x per sample and group, with ``epilogue(y, start, stop)`` (given) called on each part of
    the batch as soon as its products are done. On NumPy with several intra-op threads, a batch of ``2 *
    PART_WORK`` multiply-adds or more runs in parts at once, each product on one BLAS thread: one hand-off a layer
    instead of waking OpenBLAS's threads for each sample's product."""
    N = x.shape[0]
    y = _buffers.empty(xp, (N, w.shape[0]) + x.shape[2:], x.dtype)
    weight, samples, products = _weight(w, groups), _split(x, groups), _split(y, groups)

    def run(start, stop):
        xp.matmul(weight, samples[start:stop], out=products[start:stop])
        if epilogue is not None:
            epilogue(y, start, stop)
    _in_samples(xp, N, y.size * weight.shape[-1], run)
    return y


def _in_samples(xp, N, work, run):
    """``run(start, stop)`` on parts of the batch's N samples at once on the intra-op threads, each product on one
    BLAS thread, where the batch's products are ``2 * PART_WORK`` multiply-adds or more (NumPy, several threads);
    else once on all. The per-sample products are the same either way, so the bits do not depend on the threads."""
    if xp is numpy and N > 1 and _parallel.num_threads() > 1 and work >= 2 * PART_WORK:
        with _blas.small_products(0):
            _parallel.parallel_for(N, run, -(-N * PART_WORK // work))
    else:
        run(0, N)


def input_grad(xp, g, w, input_shape, groups):
    """Adjoint of ``forward`` in x: w^T @ g per sample and group (in parts of the batch, as ``forward``)."""
    result = _buffers.empty(xp, input_shape, g.dtype)
    weight, grads, products = _weight(w, groups).swapaxes(1, 2), _split(g, groups), _split(result, groups)
    _in_samples(xp, g.shape[0], result.size * weight.shape[-1],
                lambda start, stop: xp.matmul(weight, grads[start:stop], out=products[start:stop]))
    return result


def weight_grad(xp, x, g, weight_shape, groups):
    """Adjoint of ``forward`` in w: the sum over samples of g[n] @ x[n]^T, as a new array of ``weight_shape``; the
    per-sample products run in parts of the batch (as ``forward``), their sum over samples in parts of the rows."""
    N = x.shape[0]
    x, g = _split(x, groups), _split(g, groups)
    result = _parallel.zeros(xp, weight_shape, g.dtype)
    sums = _weight(result, groups)
    # OpenBLAS's small-matrix kernel (which runs these products up to ``_blas.SMALL_KERNEL`` multiply-adds) reads a
    # transposed right operand, x[n]^T as a view, 1.3-2.6x slower than a row-major one: there the smaller of x and g
    # is moved positions-first, (P, channels) per sample, and right of the product (x[n] @ g[n]^T, the transposed
    # sums, where g is the smaller)
    moved = xp is numpy and math.prod(sums.shape[1:]) * x.shape[-1] <= _blas.SMALL_KERNEL and _blas._small_kernel()
    flip = moved and g.shape[2] <= x.shape[2]
    left, right = (x, g) if flip else (g, x)
    if flip:
        sums = _parallel.zeros(xp, sums.shape[:1] + sums.shape[:0:-1], g.dtype)
    step = max(1, WEIGHT_WORK // result.size)
    for first in range(0, N, step):
        last = min(N, first + step)
        products = _buffers.empty(xp, (last - first,) + sums.shape, g.dtype)

        def run(start, stop, first=first, products=products):
            samples = slice(first + start, first + stop)
            if moved:
                rows = _buffers.empty(xp, right[samples].shape[:2] + right.shape[:1:-1], g.dtype)
                _parallel.assign(rows, right[samples].swapaxes(2, 3))
            else:
                rows = right[samples].swapaxes(2, 3)
            xp.matmul(left[samples], rows, out=products[start:stop])
        _in_samples(xp, last - first, products.size * x.shape[-1], run)
        flat, rows = sums.reshape(-1, sums.shape[-1]), products.reshape(last - first, -1, sums.shape[-1])

        def add(start, stop, flat=flat, rows=rows):   # each element summed over the samples in order: any cut
            flat[start:stop] += rows[:, start:stop].sum(0)
        _parallel.parts(flat.shape[0], products.size if xp is numpy else 0, add)
    if flip:
        _weight(result, groups)[...] = sums.swapaxes(1, 2)
    return result
