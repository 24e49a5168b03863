"""Forward convolutions with few output channels over small maps by channels-last columns: each sample's padded
input moved to (N, *s, C), the columns (N * P, K * C) cut from it with runs of C elements, and one product
(N * P, K * C) @ (K * C, O), whose rows are the samples' positions, then moved back per sample to (N, O, *out).

OpenBLAS runs a product whose result has few columns faster with them as its last dim: at one thread (ResNet-18 32x32's
8x8 stage, batch 32) (2048 x 576) @ (576 x 64) takes 1.52 ms against 1.88 for (64 x 576) @ (576 x 2048), and the
per-sample moves are transposes of (C, P) blocks that stay in cache. Only forwards that keep no columns run here
(evaluation, ``no_grad``, a weight that records no gradient, a transposed convolution's input gradient without
``create_graph``): a training step's forward keeps its columns for the weight gradient, and taking channels-last ones
there, the weight gradient cutting its own, measured slower at two threads (ResNet-18 32x32, main thread 94 -> 99 ms
a step). The columns' path (``conv``) keeps the rest: more output channels (even at 128, slower from 256), grouped
convolutions, kernel offsets that meet only padding, and the gradients.
"""
import math

import numpy

from .. import _compat
from . import _blas, _buffers, _parallel

__all__ = []

MAX_OUTPUTS = 64
"""Most output channels: forward at one thread, batch 32, 3x3 padding 1, against the batch-last columns (ms): 32 to 32
channels on 8x8 maps 0.78 -> 0.55, 64 to 64 on 8x8 2.25 -> 1.76, 128 to 128 on 4x4 1.72 -> 1.68, 256 to 256 on 2x2
1.62 -> 2.14, 512 to 512 on 4x4 25.4 -> 30.0."""


def applies(xp, x, w, groups, every_offset):
    """Whether a forward of x by w that keeps no columns (over the small maps that ``conv`` lays out batch-last) runs
    here: NumPy float32/float64, one group, at most ``MAX_OUTPUTS`` output channels, a kernel of more than one offset,
    all of them meeting the input (``every_offset``)."""
    return (xp is numpy and groups == 1 and every_offset and w.shape[0] <= MAX_OUTPUTS and math.prod(w.shape[2:]) > 1
            and x.dtype == w.dtype and x.dtype.char in "fd" and type(x) is numpy.ndarray and type(w) is numpy.ndarray)


def forward(x, w, stride, padding, dilation, out):
    """x (N, C, *s) correlated with w (O, C, *k) -> a new y (N, O, *out)."""
    N, C, size, kernel = x.shape[0], x.shape[1], x.shape[2:], w.shape[2:]
    n = len(kernel)
    padded = tuple(s + 2 * p for s, p in zip(size, padding))
    to_last = (0,) + tuple(range(2, n + 2)) + (1,)
    moved = x.transpose(to_last)
    if any(padding):
        source = _parallel.zeros(numpy, (N,) + padded + (C,), x.dtype)
        _parallel.assign(source[(slice(None),) + tuple(slice(p, p + s) for p, s in zip(padding, size))], moved)
    else:
        source = _parallel.assign(_buffers.empty(numpy, moved.shape, x.dtype), moved)
    spatial = source.strides[1:-1]
    view = _compat.as_strided(numpy, source, (N,) + tuple(out) + tuple(kernel) + (C,),
                              (source.strides[0],) + tuple(s * t for s, t in zip(spatial, stride))
                              + tuple(s * d for s, d in zip(spatial, dilation)) + (source.strides[-1],))
    columns = _parallel.assign(_buffers.empty(numpy, view.shape, x.dtype), view)
    P, K = math.prod(out), math.prod(kernel)
    weight = w.transpose(tuple(range(2, n + 2)) + (1, 0))
    weight = _parallel.assign(_buffers.empty(numpy, weight.shape, w.dtype), weight).reshape(K * C, w.shape[0])
    rows = _blas.matmul(columns.reshape(N * P, K * C), weight,
                        _buffers.empty(numpy, (N * P, w.shape[0]), x.dtype), short_on_one=True)
    y = _buffers.empty(numpy, (N, w.shape[0]) + tuple(out), x.dtype)
    _parallel.assign(y.reshape(N, w.shape[0], P), rows.reshape(N, P, w.shape[0]).transpose(0, 2, 1))
    return y
