"""Convolutions over tiny maps as one dense product: a forward with no weight gradient to follow, over maps whose
every output window reaches (nearly) the whole input (ResNet-18's and VGG's 2x2 maps at 32x32 input), is the linear
map of a sample's (C, *s) values to its (O, *out) ones. Its matrix, (C * s) x (O * out), is built from the weight and
kept between calls with the same weight bits (``_kept``); the batch's flattened samples times it, (N, C * s) @
(C * s, O * out), is already the (N, O, *out) output: no columns cut, no weights gathered, no padding's zeros
multiplied. The matrix has s * out entries per (input, output) channel pair where the columns' weight has the live
kernel offsets' ``L`` and their product ``L`` multiply-adds per output and channel pair, so it applies where the
input's positions are at most ``L`` and the matrix small (``MAX_ENTRIES``). Each output is a sum of the same products as the columns' path, in another order
(float round-off, within the dtype's tolerance of PyTorch's values).
"""
import itertools
import math

import numpy

from . import _blas, _buffers, _kept

__all__ = []

MIN_BATCH = 16
"""Fewest samples: the matrix is read once per call, so a thin batch spends its time reading it. One thread, thread
CPU, ms, the path before (exact Winograd tiles, kept) against this one on 2x2 maps with padding 1: 256 -> 256 channels
at batch 32 1.54 -> 1.00, 512 -> 512 6.36 -> 4.52, 256 -> 512 3.45 -> 1.78; at batch 8 512 -> 512 2.26 -> 2.22."""


MAX_ENTRIES = 16
"""Most entries of the matrix per (input, output) channel pair (input positions times output positions): 2x2 maps'
16, the exact tiles' transformed weight's size. A 3x3 map's 81 make a matrix read from memory every call (and past
``_kept``'s budget at 512 channels): one thread, batch 32, 256 -> 256 channels on 3x3 maps 3.8-4.1 -> 5.9-6.0 ms, 128
1.0 -> 1.2."""


def applies(xp, weight_shape, groups, input_shape, dtype, live, out):
    """Whether a convolution's forward with no weight gradient to follow runs here: on NumPy in float32/float64,
    ungrouped, a batch of ``MIN_BATCH`` or more, over maps of more than one position and at most as many as its
    ``live`` kernel offsets (a 1x1 map's centre tap is gathered faster than its whole weight is compared), with at
    most ``MAX_ENTRIES`` matrix entries per channel pair (``out``: the output's spatial sizes)."""
    positions = math.prod(input_shape[2:])
    return (xp is numpy and groups == 1 and numpy.dtype(dtype).char in "fd" and input_shape[0] >= MIN_BATCH
            and 1 < positions <= len(live) and positions * math.prod(out) <= MAX_ENTRIES)


def _matrix(w, dtype, size, out, stride, padding, dilation):
    """The (C * s, O * out) matrix of the convolution with w (O, C, *k) over maps of ``size``, of ``dtype``."""
    O, C, kernel = w.shape[0], w.shape[1], w.shape[2:]
    matrix = numpy.zeros((C,) + tuple(size) + (O,) + tuple(out), dtype)
    taps = w.transpose(tuple(range(2, w.ndim)) + (1, 0))   # (*k, C, O)
    for position in itertools.product(*map(range, out)):
        for offset in itertools.product(*map(range, kernel)):
            source = tuple(p * t + k * d - q for p, t, k, d, q in zip(position, stride, offset, dilation, padding))
            if all(0 <= i < s for i, s in zip(source, size)):
                matrix[(slice(None),) + source + (slice(None),) + position] = taps[offset]
    return matrix.reshape(C * math.prod(size), O * math.prod(out))


def forward(x, w, stride, padding, dilation, out):
    """y (N, O, *out), a new array, of x (N, C, *s) correlated with w (O, C, *k); None where x or w holds an infinity
    or NaN (by sums, as ``conv._finite``: the matrix's zeros would turn it into NaNs at outputs its window does not
    reach), which the columns' path takes. The weight is checked when its matrix is built."""
    N, size, dtype = x.shape[0], tuple(x.shape[2:]), numpy.result_type(x, w)
    geometry = (size, tuple(out), tuple(stride), tuple(padding), tuple(dilation))

    def build(w):
        return _matrix(w, dtype, *geometry) if numpy.isfinite(w.sum()) else None
    matrix = _kept.derived(("dense map", dtype.str) + geometry, w, build)
    if matrix is None or not numpy.isfinite(x.sum()):
        return None
    y = _buffers.empty(numpy, (N, w.shape[0]) + tuple(out), dtype)
    samples = numpy.ascontiguousarray(x, dtype).reshape(N, -1)
    _blas.matmul(samples, matrix, y.reshape(N, -1), short_on_one=True)
    return y
