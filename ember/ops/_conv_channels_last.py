"""Convolutions with few output channels over small maps by channels-last columns: each sample's padded input moved
to (N, *s, C), the columns (N * P, K * C) cut from it with runs of C elements, and the forward one product
(N * P, K * C) @ (K * C, O), whose rows are the samples' positions, moved back per sample to (N, O, *out); the weight
gradient is (K * C, N * P) @ (N * P, O) on the same columns (kept by the forward, as ``conv`` keeps its own), the
input gradient (N * P, O) @ (O, K * C) added back per kernel offset into the channels-last padded input, both from the
output gradient moved once per sample to (N * P, O).

OpenBLAS runs a product whose result has few columns faster with them as its last dim: at one thread (ResNet-18 32x32's
8x8 stage, batch 32) (2048 x 576) @ (576 x 64) takes 1.52 ms against 1.88 for (64 x 576) @ (576 x 2048), and the weight
gradient 1.68 against 2.10 for the columns' path's g @ columns^T; the per-sample moves are transposes of (C, P) blocks
that stay in cache. The columns' path (``conv``) keeps the rest: more output channels (even at 128, slower from 256),
grouped convolutions, kernel offsets that meet only padding.
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


def applies(xp, weight_shape, groups, every_offset, *arrays):
    """Whether a convolution of ``weight_shape`` over the small maps that ``conv`` lays out batch-last runs its
    forward and both gradients here: NumPy ``arrays`` (its operands) of one dtype, float32 or float64, one group, at
    most ``MAX_OUTPUTS`` output channels, a kernel of more than one offset, all of them meeting the input
    (``every_offset``)."""
    return (xp is numpy and groups == 1 and every_offset and weight_shape[0] <= MAX_OUTPUTS
            and math.prod(weight_shape[2:]) > 1 and all(type(a) is numpy.ndarray for a in arrays)
            and arrays[0].dtype.char in "fd" and all(a.dtype == arrays[0].dtype for a in arrays))


def columns(x, kernel, stride, padding, dilation, out):
    """x (N, C, *s) zero-padded as channels-last columns (N * P, K * C): row (n, position), column (offset, channel)."""
    N, C, size = x.shape[0], x.shape[1], x.shape[2:]
    moved = x.transpose((0,) + tuple(range(2, x.ndim)) + (1,))
    if any(padding):
        source = _parallel.zeros(numpy, (N,) + tuple(s + 2 * p for s, p in zip(size, padding)) + (C,), x.dtype)
        _parallel.assign(source[(slice(None),) + tuple(slice(p, p + s) for p, s in zip(padding, size))], moved)
    else:
        source = _parallel.assign(_buffers.empty(numpy, moved.shape, x.dtype), moved)
    spatial = source.strides[1:-1]
    view = _compat.as_strided(numpy, source, (N,) + tuple(out) + tuple(kernel) + (C,),
                              (source.strides[0],) + tuple(s * t for s, t in zip(spatial, stride))
                              + tuple(s * d for s, d in zip(spatial, dilation)) + (source.strides[-1],))
    return _parallel.assign(_buffers.empty(numpy, view.shape, x.dtype), view).reshape(N * math.prod(out),
                                                                                     math.prod(kernel) * C)


def forward(x, w, stride, padding, dilation, out):
    """x (N, C, *s) correlated with w (O, C, *k) -> (a new y (N, O, *out), x's ``columns``, which
    ``weight_grad`` takes)."""
    N, outputs, P, kernel = x.shape[0], w.shape[0], math.prod(out), w.shape[2:]
    source = columns(x, kernel, stride, padding, dilation, out)
    weight = w.transpose(tuple(range(2, w.ndim)) + (1, 0))
    weight = _parallel.assign(_buffers.empty(numpy, weight.shape, w.dtype), weight).reshape(source.shape[1], outputs)
    rows = _blas.matmul(source, weight, _buffers.empty(numpy, (N * P, outputs), x.dtype), short_on_one=True)
    y = _buffers.empty(numpy, (N, outputs) + tuple(out), x.dtype)
    _parallel.assign(y.reshape(N, outputs, P), rows.reshape(N, P, outputs).transpose(0, 2, 1))
    return y, source


class Moved:
    """An output gradient g (N, O, *out) moved to channels-last rows (N * P, O), as ``moved`` gives it: what both
    gradients take (its type tells it from the columns' moved gradient where two gradients share one)."""

    __slots__ = ("rows",)

    def __init__(self, rows):
        self.rows = rows


def moved(g):
    """g (N, O, *out) as ``Moved`` rows (N * P, O), moved per sample."""
    N, outputs = g.shape[:2]
    rows = _parallel.assign(_buffers.empty(numpy, (N,) + g.shape[2:] + (outputs,), g.dtype),
                            g.transpose((0,) + tuple(range(2, g.ndim)) + (1,)))
    return Moved(rows.reshape(N * math.prod(g.shape[2:]), outputs))


def weight_grad(g, weight_shape, source, rows=None):
    """The weight gradient, a new array of ``weight_shape`` (O, C, *k), from g (N, O, *out) (or its ``Moved``
    ``rows``) and x's channels-last ``source`` columns (``columns``)."""
    rows = moved(g) if rows is None else rows
    outputs = weight_shape[0]
    product = _blas.matmul(source.T, rows.rows, _buffers.empty(numpy, (source.shape[1], outputs), g.dtype),
                           short_on_one=True)
    product = product.reshape(tuple(weight_shape[2:]) + (weight_shape[1], outputs))
    n = len(weight_shape) - 2
    return _parallel.assign(_buffers.empty(numpy, weight_shape, g.dtype),
                            product.transpose((n + 1, n) + tuple(range(n))))


def input_grad(g, w, input_shape, stride, padding, dilation, rows=None):
    """The input gradient, a new (N, C, *s) array of ``input_shape``, from g (N, O, *out) (or its ``Moved``
    ``rows``): the columns' adjoint g (N * P, O) @ w (O, K * C), added back per kernel offset into the padded input
    laid out channels-last (each add along runs of C elements, in parts of the batch), then moved back per sample."""
    rows = moved(g) if rows is None else rows
    N, C, size, out, kernel = input_shape[0], input_shape[1], tuple(input_shape[2:]), g.shape[2:], w.shape[2:]
    n = len(kernel)
    weight = w.transpose((0,) + tuple(range(2, n + 2)) + (1,))
    weight = _parallel.assign(_buffers.empty(numpy, weight.shape, w.dtype), weight).reshape(w.shape[0], -1)
    columns = _blas.matmul(rows.rows, weight, _buffers.empty(numpy, (rows.rows.shape[0], weight.shape[1]), g.dtype),
                           short_on_one=True).reshape((N,) + tuple(out) + tuple(kernel) + (C,))
    padded = tuple(s + 2 * p for s, p in zip(size, padding))
    result = _parallel.zeros(numpy, (N,) + padded + (C,), g.dtype)
    windows = [tuple(slice(k * d, k * d + t * (o - 1) + 1, t) for k, d, t, o in zip(offset, dilation, stride, out))
               for offset in numpy.ndindex(*kernel)]
    everywhere = (slice(None),) * n

    def fold(first, last):
        for offset, window in zip(numpy.ndindex(*kernel), windows):
            result[(slice(first, last),) + window] += columns[(slice(first, last),) + everywhere + offset]
    _parallel.parts(N, columns.size, fold)
    inside = result[(slice(None),) + tuple(slice(p, p + s) for p, s in zip(padding, size))]
    return _parallel.assign(_buffers.empty(numpy, tuple(input_shape), g.dtype),
                            inside.transpose((0, n + 1) + tuple(range(1, n + 1))))
