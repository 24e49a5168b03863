"""Convolutions in 1, 2 and 3 spatial dims, their transposes, and unfold/fold.

One mechanism serves all: *columns* (im2col) of the padded input, shaped (G, C/G * K, P * N) for G groups,
K kernel offsets and P output positions, built with one strided copy per kernel offset from the input moved to
(C, N, *s), or to (C, *s, N) for narrow maps (there each copy, and each add of the input gradient's fold, runs
along rows of W * N elements rather than W, which keeps NumPy's per-row overhead small). Kernel offsets that meet
only padding are left out. Four kinds take their own algorithms: depthwise convolutions (banded matmuls,
``_conv_depthwise``) and 1x1 ones over larger maps (``_conv_pointwise``), both in the (N, C, *s) layout with no
moves, wide 3x3 stride-1 ones (Winograd's F(2x2, 3x3), ``_conv_winograd``; with no weight gradient to follow,
also thinner ones over larger maps), stride-1 ones of 5x5 and larger kernels over small maps (discrete Fourier
transforms as matmuls, ``_conv_fourier``; with Winograd's, the transform-domain algorithms ``_transform`` picks), and
the other ungrouped float32/float64 ones over larger maps (the
batch-first layout below), whose columns are cut, multiplied and added back a block of samples at a time while they
stay in cache (``_conv_blocked``); those with few output channels over small maps take channels-last columns, one
row per sample's position (``_conv_channels_last``); a forward with no weight gradient to follow over small maps
(ResNet's and VGG's 16x16 to 4x4 ones) takes Winograd's tiles channels-last (``_conv_winograd_tiles``), and over
tiny maps (2x2) one product by the convolution's dense matrix (``_conv_dense``). The forward
keeps its columns for the weight gradient while they fit in a budget (``HELD_BYTES``), and large temporaries come
from a pool (``_buffers``) reused across steps. A float32/float64 bias is added by the forward primitive itself, in
place on an output it owns (no second output array).
Each of the three linear maps of a convolution is then one batched matmul:

- ``_conv``:        y = w @ columns(x)
- ``_conv_input``:  the adjoint in x (transposed convolution): columns = w^T @ g, added back per kernel offset
- ``_conv_weight``: the adjoint in w: g @ columns(x)^T

The three primitives below are each other's gradients, so convolutions can be differentiated any number of times.
"""
import functools
import itertools
import math
import weakref

import numpy

from .. import _dtype, _compat
from .._tensor import _make
from ..autograd.function import Primitive, composite
from ..autograd.grad_mode import is_grad_enabled
from . import (_blas, _buffers, _conv_blocked, _conv_channels_last, _conv_dense, _conv_depthwise, _conv_fourier,
               _conv_pointwise, _conv_winograd, _conv_winograd_tiles, _parallel)
from ._kernel_dtypes import FLOATING, cpp_type_name, legacy_type_name, require_dtype
from ._util import holomorphic_backward, name_node, quiet

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]


def _tuple(value, n, name="value"):
    if isinstance(value, int):
        return (value,) * n
    if type(value) is tuple and len(value) == n and all(type(v) is int for v in value):   # as modules keep them
        return value
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values to match the "
                           f"convolution dimensions, but got {name}={list(value)}")
    return value


def _windows(xp, x, kernel, stride, dilation, out):
    """A view of x (N, C, *spatial) as (N, C, *out, *kernel) windows, without copying (pooling and unfold use it)."""
    n = len(kernel)
    strides = x.strides
    shape = x.shape[:2] + tuple(out) + tuple(kernel)
    view_strides = strides[:2] + tuple(strides[2 + i] * stride[i] for i in range(n)) + \
        tuple(strides[2 + i] * dilation[i] for i in range(n))
    return _compat.as_strided(xp, x, shape, view_strides)


def _offset_windows(kernel, stride, dilation, out):
    """Per kernel offset, the index of the padded input (N, C, *s) elements it meets at every output position."""
    everything = (slice(None), slice(None))
    for spatial in _offset_slices(kernel, stride, dilation, out):
        yield everything + spatial


def _offset_slices(kernel, stride, dilation, out):
    """Per kernel offset, the slices of the padded spatial dims it meets at every output position."""
    for offset in itertools.product(*(range(k) for k in kernel)):
        yield tuple(slice(o * d, o * d + s * (n - 1) + 1, s) for o, d, s, n in zip(offset, dilation, stride, out))


SMALL_WIDTH = 16
"""Below this output width, the columns are laid out batch-last: see ``_moved``."""


SHORT_COLUMNS = 64
"""Up to this many column rows (per group; a first layer's C * K: 9, 25, 27), the forward product is one per sample,
written straight into the (N, O, *out) output of a batch-first layout: measured at one thread, (16 x 25) @
(25 x 100 * 784) and the move of its output 1.31 ms, the 100 products 0.63 ms; from ~75 rows (147, 288) the one
large product is faster even with the move."""

SUBSAMPLED_ONES = True
"""Whether a forward without a weight gradient takes an unpadded strided 1x1 convolution as a stride-1 one of the
positions it reads (ResNet's downsample branches)."""


def _batch_last(out, groups, w):
    """Whether to cut the columns from a (C, *s, N) layout (rows of W * N elements: small maps) rather
    than (C, N, *s) (rows of W elements, but no transposing copy of single elements for the input and output)."""
    return out[-1] < SMALL_WIDTH


def _moved(xp, x, padding, batch_last):
    """x (N, C, *s) as a contiguous (C, *padded s, N) or (C, N, *padded s) array: the columns' source."""
    moved = x.transpose(_first_to_last(x.ndim)) if batch_last else x.swapaxes(0, 1)
    if not any(padding):
        return _parallel.assign(_buffers.empty(xp, moved.shape, x.dtype), moved)
    spatial = x.shape[2:]
    result = _parallel.zeros(xp, _positions(moved.shape[:1], tuple(s + 2 * p for s, p in zip(spatial, padding)),
                                           x.shape[0], batch_last), x.dtype)
    _parallel.assign(result[_window(tuple(slice(p, p + s) for p, s in zip(padding, spatial)), batch_last)], moved)
    return result


def _first_to_last(ndim):
    """The axes of ``moveaxis(a, 0, -1)`` as a transpose (``moveaxis`` costs ~3 us of Python a call)."""
    return tuple(range(1, ndim)) + (0,)


def _last_to_first(ndim):
    """The axes of ``moveaxis(a, -1, 0)`` as a transpose."""
    return (ndim - 1,) + tuple(range(ndim - 1))


def _positions(leading, spatial, batch, batch_last):
    """The shape ``leading`` + positions, in the layout's order of spatial dims and batch."""
    return leading + (tuple(spatial) + (batch,) if batch_last else (batch,) + tuple(spatial))


def _window(spatial, batch_last, parts=(slice(None), slice(None)), offset=()):
    """The index of a (C, [K,] ...) array in the layout taking the spatial slices ``spatial``, the kernel
    ``offset`` (none, one index, or a slice per kernel dim) and the ``parts`` (channels, batch) slices (all of both
    by default)."""
    channels, batch = parts
    return (channels,) + offset + (spatial + (batch,) if batch_last else (batch,) + spatial)


def _in_parts(xp, work, C, N, size, batch_last=False):
    """Runs ``work((channels, batch))`` on parts of the channels, or of the batch where it is the longer of the two
    and not the layout's last dim (``batch_last``: cutting it would cut every contiguous run), at once on the
    intra-op threads when the arrays it touches (``size`` elements) are large."""
    if C >= N or batch_last and C > 1:
        _over(xp, C, size, lambda a, b: work((slice(a, b), slice(None))))
    else:
        _over(xp, N, size, lambda a, b: work((slice(None), slice(a, b))))


def _over(xp, count, size, work):
    """``work(start, stop)`` on parts of ``range(count)`` at once for large NumPy arrays (of ``size`` elements)."""
    _parallel.parts(count, size if xp is numpy else 0, work)


def _batch_first(xp, y, batch_last):
    """y (C, *s, N) or (C, N, *s) back as a contiguous (N, C, *s)."""
    moved = y.transpose(_last_to_first(y.ndim)) if batch_last else y.swapaxes(0, 1)
    return _parallel.assign(_buffers.empty(xp, moved.shape, moved.dtype), moved)


def _strided_columns(xp, x, kernel, stride, dilation, out, batch_last):
    """Every kernel offset's columns (C, *kernel, *out, N) or (C, *kernel, N, *out), copied from one strided view of
    the moved, padded x: one copy per part of the channels or batch (on a GPU one kernel launch; on the host a copy
    per kernel offset took 1.1-1.6x as long)."""
    n = len(kernel)
    first = 1 if batch_last else 2   # x's first spatial dim
    spatial = x.strides[first:first + n]
    batch = ((x.shape[-1],), (x.strides[-1],)) if batch_last else ((x.shape[1],), (x.strides[1],))
    at_kernel = tuple(s * d for s, d in zip(spatial, dilation))
    at_out = tuple(s * t for s, t in zip(spatial, stride))
    if batch_last:
        shape, strides = tuple(kernel) + tuple(out) + batch[0], at_kernel + at_out + batch[1]
    else:
        shape, strides = tuple(kernel) + batch[0] + tuple(out), at_kernel + batch[1] + at_out
    view = _compat.as_strided(xp, x, (x.shape[0],) + shape, (x.strides[0],) + strides)
    columns = _buffers.empty(xp, view.shape, x.dtype)
    everywhere = (slice(None),) * n

    def cut(parts):
        index = _window(everywhere, batch_last, parts, everywhere)
        columns[index] = view[index]
    _in_parts(xp, cut, x.shape[0], batch[0][0], columns.size, batch_last)
    return columns


def _live_offsets(kernel, stride, dilation, out, padding, size):
    """The kernel offsets, as (flat index, padded spatial slices), that meet the input (not only its padding) at
    some output position: the others add nothing, so their columns are left out (a 3x3 convolution of a 1x1 map,
    as in ResNet's last stage, needs only its centre)."""
    return _live_offsets_of(tuple(kernel), tuple(stride), tuple(dilation), tuple(out), tuple(padding), tuple(size))


@functools.lru_cache(maxsize=256)
def _live_offsets_of(kernel, stride, dilation, out, padding, size):
    """``_live_offsets`` of hashable arguments, once per geometry (a layer asks each step: ~20 us of Python)."""
    return tuple((k, spatial) for k, spatial in enumerate(_offset_slices(kernel, stride, dilation, out))
                 if all(_meets(window, p, s) for window, p, s in zip(spatial, padding, size)))


def _meets(window, pad, size):
    """Whether a slice of a padded dim meets one of the ``size`` real elements after the ``pad`` leading ones."""
    first = max(0, -(-(pad - window.start) // window.step))
    position = window.start + first * window.step
    return position < window.stop and position < pad + size


def _whole(live, shape):
    """Whether the offsets are one slice taking every element of a padded spatial ``shape`` (a 1x1 convolution)."""
    return len(live) == 1 and all(w.start == 0 and w.step == 1 and w.stop == n for w, n in zip(live[0][1], shape))


def _columns(xp, x, live, out, groups, batch_last, geometry):
    """The moved, padded input x (see ``_moved``) as columns (G, C/G * K, P * N) of the ``live`` offsets;
    ``geometry`` is the (kernel, stride, dilation) they come from."""
    C = x.shape[0]
    spatial, N = (x.shape[1:-1], x.shape[-1]) if batch_last else (x.shape[2:], x.shape[1])
    if _whole(live, spatial):
        return x.reshape(groups, C // groups, -1)
    if len(live) == math.prod(geometry[0]):   # every offset: one strided view (live offsets need not form one)
        columns = _strided_columns(xp, x, *geometry, out, batch_last)
        return columns.reshape(groups, C // groups * len(live), math.prod(out) * N)
    columns = _buffers.empty(xp, _positions((C, len(live)), out, N, batch_last), x.dtype)
    everywhere = tuple(slice(None) for _ in out)

    def cut(parts):
        for i, (_, spatial) in enumerate(live):
            columns[_window(everywhere, batch_last, parts, (i,))] = x[_window(spatial, batch_last, parts)]
    _in_parts(xp, cut, C, N, columns.size, batch_last)
    return columns.reshape(groups, C // groups * len(live), math.prod(out) * N)


def _blocked(xp, arrays, groups, live, batch_last, kernel):
    """Whether a convolution's map of ``arrays`` (its two operands) runs a block of samples at a time
    (``_conv_blocked``): larger maps (the batch-first layout) with every kernel offset live."""
    first = arrays[0]
    return (not batch_last and all(a.dtype == first.dtype for a in arrays)
            and _conv_blocked.applies(xp, first.dtype, first.shape[0], groups, live, kernel))


def _grouped(xp, g, groups, batch_last):
    """g (N, O, *out) as (G, O/G, P * N), the layout the columns' matmuls take."""
    out_channels = g.shape[1]
    moved = g.transpose(_first_to_last(g.ndim)) if batch_last else g.swapaxes(0, 1)
    return _parallel.assign(_buffers.empty(xp, moved.shape, g.dtype), moved).reshape(groups, out_channels // groups, -1)


def _grouped_weight(xp, w, groups, live):
    """w (O, C/G, *k) as (G, O/G, C/G * K) of the ``live`` offsets, matching the columns' rows."""
    out_channels, in_channels = w.shape[:2]
    offsets = math.prod(w.shape[2:])
    if len(live) < offsets:
        taken = [k for k, _ in live]
        if len(taken) == 1:   # one strided copy (1x1 maps' centre tap): take ran 2.5x slower, 0.29 against 0.12 ms
            def gather(part, whole):   # for a 512 x 512 weight at one thread
                xp.copyto(part[:, :, 0], whole[:, :, taken[0]])
        else:   # mode "clip": the offsets are in range, and with the default "raise" NumPy writes into a copy of out
            def gather(part, whole):
                xp.take(whole, taken, axis=2, out=part, mode="clip")
        w = _parallel.map_chunks(gather, _buffers.empty(xp, (out_channels, in_channels, len(live)), w.dtype),
                                 w.reshape(out_channels, in_channels, offsets))
    return w.reshape(groups, out_channels // groups, in_channels * len(live))


def _pad(xp, x, padding):
    if not any(padding):
        return x
    return xp.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in padding))


def _conv(xp, x, w, stride, padding, dilation, groups, keep=False, bias=None):
    """Forward convolution of arrays: x (N, C, *s), w (O, C/G, *k) -> (N, O, *out), plus ``bias`` (O,) per output
    channel if given (added once to the finished sums, as ``y + bias`` would); with ``keep``, also the columns
    (Winograd's transformed input), which ``_conv_weight`` takes as its ``source`` (None for depthwise and 1x1
    convolutions, whose weight gradients read x itself), and the weights of the live kernel offsets where some
    offsets meet only padding, which ``_conv_input`` takes as ``gathered`` (else None)."""
    size, kernel = x.shape[2:], w.shape[2:]
    if not keep and SUBSAMPLED_ONES and all(k == 1 for k in kernel) and not any(padding) and max(stride) > 1:
        # an unpadded strided 1x1 convolution reads every stride-th position alone: the same products, as a stride-1
        # one of those positions (the weight gradient, where one follows, reads x with its stride)
        x = x[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)]
        size, stride = x.shape[2:], (1,) * len(stride)
    out = [(size[i] + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(len(size))]
    if _depthwise(w, groups):   # reads x unpadded (the weight gradient pads it)
        y = _biased(xp, _conv_depthwise.forward(xp, x, w, stride, dilation, out, padding, kept=not keep), bias)
        return (y, None, None) if keep else y
    if _conv_pointwise.applies(w, stride, padding, size, groups):
        y = _biased(xp, _conv_pointwise.forward(xp, x, w, groups), bias)
        return (y, None, None) if keep else y
    algorithm = _transform(xp, w.shape, stride, padding, dilation, groups, x.shape, x.dtype)
    if not keep:   # no weight gradient to follow: nothing to keep for it
        if _conv_dense.applies(xp, w.shape, groups, x.shape, x.dtype,
                               _live_offsets(kernel, stride, dilation, out, padding, size), out):
            y = _conv_dense.forward(x, w, stride, padding, dilation, out)
            if y is not None:
                return _biased(xp, y, bias)
        if _conv_winograd_tiles.applies(xp, w.shape, stride, padding, dilation, groups, x.shape, x.dtype) and \
                (algorithm is None or _conv_winograd_tiles.before_grid(w.shape)) and \
                _conv_winograd_tiles.kept_for(w, x.shape, padding) and _finite(x):
            y = _conv_winograd_tiles.forward(x, w, padding)   # None for a non-finite weight
            if y is not None:
                return _biased(xp, y, bias)
        if algorithm is None and _conv_winograd.applies(xp, w.shape, stride, padding, dilation, groups, x.shape,
                                                        x.dtype, forward_only=True):
            algorithm = _conv_winograd
    if algorithm is not None:
        if _finite(x, w):
            y, source = algorithm.forward(x, w, padding)
            y = _biased(xp, y, bias)
        else:   # the columns' path, keeping nothing: the weight gradient takes the algorithm's or cuts its own
            y, source = _conv_columns(xp, x, w, out, stride, padding, dilation, groups, bias=bias), None
        return (y, source, None) if keep else y
    return _conv_columns(xp, x, w, out, stride, padding, dilation, groups, keep=keep, bias=bias)


def _biased(xp, y, bias):
    """y (N, O, *s), a new array of the caller's, with ``bias`` (O,) added in place (nothing if None): in place,
    a fresh output for the sum (a page fault per 4 KiB) is saved."""
    if bias is not None:
        _parallel.ufunc(xp.add, y, bias.reshape((-1,) + (1,) * (y.ndim - 2)), out=y)
    return y


def _conv_columns(xp, x, w, out, stride, padding, dilation, groups, keep=False, bias=None):
    """``_conv`` by columns (im2col) and one matmul (or one per sample, for a first layer's few column rows)."""
    N, size, kernel = x.shape[0], x.shape[2:], w.shape[2:]
    batch_last = _batch_last(out, groups, w)
    live = _live_offsets(kernel, stride, dilation, out, padding, size)
    if _blocked(xp, (x, w), groups, live, batch_last, kernel):
        y = _biased(xp, _conv_blocked.forward(x, w, stride, padding, dilation, out), bias)
        return (y, None, None) if keep else y
    if batch_last and _conv_channels_last.applies(xp, w.shape, groups, len(live) == math.prod(kernel), x, w):
        y, source = _conv_channels_last.forward(x, w, stride, padding, dilation, out)
        y = _biased(xp, y, bias)
        return (y, source, None) if keep else y
    source = _moved(xp, x, padding, batch_last)
    source = _columns(xp, source, live, out, groups, batch_last, (kernel, stride, dilation))
    weight = _grouped_weight(xp, w, groups, live)
    gathered = weight if len(live) < math.prod(kernel) else None
    if not batch_last and source.shape[1] <= SHORT_COLUMNS and xp is numpy:
        # one product per sample written in place, (N, O, P): no move of the output afterwards
        y = _buffers.empty(xp, (N, w.shape[0]) + tuple(out), x.dtype)
        P = math.prod(out)
        samples = source.reshape(groups, source.shape[1], N, P).transpose(2, 0, 1, 3)
        products = y.reshape(N, groups, weight.shape[1], P)
        # the samples in parts at once, each product on one BLAS thread: OpenBLAS's second thread made these
        # short products slower (a (16, 25) @ (25, 784) product per sample: 0.7 -> 1.1 ms for a batch of 100)
        with _blas.small_products(0):
            _over(xp, N, y.size + source.size, lambda a, b: xp.matmul(weight, samples[a:b], out=products[a:b]))
        y = _biased(xp, y, bias)
        return (y, source, gathered) if keep else y
    y = _buffers.empty(xp, (groups, weight.shape[1], source.shape[2]), x.dtype)
    y = _product(xp, weight, source, y)
    if bias is not None:   # before the move: along the product's rows of P * N, 2x faster than rows of P after it
        _parallel.ufunc(xp.add, y, bias.reshape(groups, -1, 1), out=y)
    y = _batch_first(xp, y.reshape(_positions((w.shape[0],), out, N, batch_last)), batch_last)
    return (y, source, gathered) if keep else y


def _product(xp, a, b, out):
    """``a @ b`` into ``out``: on NumPy by ``_blas.matmul`` (a long product in parts on the intra-op threads, one BLAS
    thread each, rather than on OpenBLAS's threads, which wake for every product and on a busy host wait for each
    other; a short one whole on one BLAS thread, for the same reason: ResNet-18 32x32's evaluation at two threads,
    main-thread CPU 35 -> 30 ms a step)."""
    return _blas.matmul(a, b, out, short_on_one=True) if xp is numpy else xp.matmul(a, b, out=out)


def _conv_input(xp, g, w, input_shape, stride, padding, dilation, groups, grouped=None, gathered=None):
    """Adjoint of ``_conv`` in x: spreads g (N, O, *out) back onto an input of ``input_shape`` (N, C, *s);
    ``grouped``: g as ``_grouped`` gives it, if already moved; ``gathered``: the live offsets' weights as the
    forward gathered them, if it kept them."""
    if _depthwise(w, groups):
        return _conv_depthwise.input_grad(xp, g, w, input_shape, padding, stride, dilation)
    if _conv_pointwise.applies(w, stride, padding, input_shape[2:], groups) and g.shape[2:] == input_shape[2:]:
        return _conv_pointwise.input_grad(xp, g, w, input_shape, groups)
    algorithm = _transform(xp, w.shape, stride, padding, dilation, groups, input_shape, g.dtype)
    if algorithm is not None and (isinstance(grouped, algorithm.Transformed) or grouped is None and _finite(g, w)):
        return algorithm.input_grad(g, w, input_shape, padding, grouped)
    n = w.ndim - 2
    N, C = input_shape[:2]
    out = g.shape[2:]
    padded = tuple(input_shape[2 + i] + 2 * padding[i] for i in range(n))
    live = _live_offsets(w.shape[2:], stride, dilation, out, padding, input_shape[2:])
    batch_last = _batch_last(out, groups, w)
    if grouped is None and _blocked(xp, (g, w), groups, live, batch_last, w.shape[2:]):
        return _conv_blocked.input_grad(g, w, input_shape, stride, padding, dilation, [s for _, s in live])
    if batch_last and _conv_channels_last.applies(xp, w.shape, groups, len(live) == math.prod(w.shape[2:]), g, w):
        return _conv_channels_last.input_grad(g, w, input_shape, stride, padding, dilation,
                                              grouped if isinstance(grouped, _conv_channels_last.Moved) else None)
    weight = (_grouped_weight(xp, w, groups, live) if gathered is None else gathered).swapaxes(1, 2)
    g = _grouped(xp, g, groups, batch_last) if grouped is None else grouped
    columns = _product(xp, weight, g, _buffers.empty(xp, (groups, weight.shape[1], g.shape[2]), g.dtype))
    columns = columns.reshape(_positions((C, len(live)), out, N, batch_last))
    if _whole(live, padded):
        result = columns[:, 0]   # a 1x1 convolution's columns are its input
    else:
        result = _parallel.zeros(xp, _positions((C,), padded, N, batch_last), g.dtype)
        everywhere = tuple(slice(None) for _ in out)

        def fold(parts):
            for i, (_, spatial) in enumerate(live):
                result[_window(spatial, batch_last, parts)] += columns[_window(everywhere, batch_last, parts, (i,))]
        _in_parts(xp, fold, C, N, columns.size, batch_last)
    if any(padding):
        result = result[_window(tuple(slice(p, p + s) for p, s in zip(padding, input_shape[2:])), batch_last)]
    return _batch_first(xp, result, batch_last)


def _conv_weight(xp, x, g, weight_shape, stride, padding, dilation, groups, source=None, grouped=None):
    """Adjoint of ``_conv`` in w: correlates x (N, C, *s) with g (N, O, *out) into a weight of ``weight_shape``;
    ``source``: x's columns as ``_conv`` kept them, else cut here; ``grouped``: g as ``_grouped`` gives it, if
    already moved."""
    if _depthwise(weight_shape, groups):
        rows = _conv_depthwise.weight_grad(xp, x, g, groups, stride, padding, dilation, weight_shape[2:])
        return _parallel.assign(_buffers.empty(xp, weight_shape, rows.dtype), rows.reshape(weight_shape))
    if _conv_pointwise.applies(weight_shape, stride, padding, x.shape[2:], groups) and g.shape[2:] == x.shape[2:]:
        return _conv_pointwise.weight_grad(xp, x, g, weight_shape, groups)
    algorithm = _transform(xp, weight_shape, stride, padding, dilation, groups, x.shape, x.dtype)
    if algorithm is not None:
        transformed = grouped if isinstance(grouped, algorithm.Transformed) else None
        if (transformed is not None or _finite(g)) and (source is not None or _finite(x)):
            return algorithm.weight_grad(x, g, weight_shape, padding, source, transformed)
        # an infinite x, say: the columns' path, which cuts x's columns and moves g itself
        source, grouped = None, None if transformed is not None else grouped

    out = g.shape[2:]
    live = _live_offsets(weight_shape[2:], stride, dilation, out, padding, x.shape[2:])
    batch_last = _batch_last(out, groups, weight_shape)
    if grouped is None and _blocked(xp, (x, g), groups, live, batch_last, weight_shape[2:]):
        return _conv_blocked.weight_grad(x, g, weight_shape, stride, padding, dilation)
    if batch_last and _conv_channels_last.applies(xp, weight_shape, groups, len(live) == math.prod(weight_shape[2:]),
                                                  x, g):
        if source is None:
            source = _conv_channels_last.columns(x, weight_shape[2:], stride, padding, dilation, out)
        return _conv_channels_last.weight_grad(g, weight_shape, source,
                                               grouped if isinstance(grouped, _conv_channels_last.Moved) else None)
    # channels-last columns or moved g for operands those do not take (dtypes apart): the columns' own instead
    grouped = None if isinstance(grouped, _conv_channels_last.Moved) else grouped
    if source is None or source.ndim == 2:
        source = _columns(xp, _moved(xp, x, padding, batch_last), live, out, groups, batch_last,
                          (weight_shape[2:], stride, dilation))
    g = _grouped(xp, g, groups, batch_last) if grouped is None else grouped
    # the gradient is a new array of the weight's shape that owns its memory: the engine hands it out uncopied
    K = math.prod(weight_shape[2:])
    if source.shape[2] < LONG_PRODUCT * source.shape[1]:
        # g @ columns^T, in the weight's layout: for a large weight the transposing copy that the other orientation
        # needs costs up to as much as the product (ResNet-18's 512-channel layers)
        if len(live) == K:
            result = _buffers.empty(xp, weight_shape, xp.result_type(g, source))
            _product(xp, g, source.swapaxes(1, 2), result.reshape(groups, g.shape[1], source.shape[1]))
            return result
        rows = _product(xp, g, source.swapaxes(1, 2), xp.empty((groups, g.shape[1], source.shape[1]),
                                                               xp.result_type(g, source)))
    else:
        # as columns @ g^T: OpenBLAS runs this long-K product faster with the columns as the left operand
        rows = _product(xp, source, g.swapaxes(1, 2), xp.empty((groups, source.shape[1], g.shape[1]),
                                                               xp.result_type(g, source))).swapaxes(1, 2)
    result = _buffers.empty(xp, weight_shape, rows.dtype)
    if len(live) == K:
        _parallel.assign(result.reshape(rows.shape), rows)
    else:
        taken = [k for k, _ in live]

        def scatter(part, rows):
            part.fill(0)
            part[:, :, taken] = rows
        _parallel.map_chunks(scatter, result.reshape(weight_shape[:2] + (K,)),
                             rows.reshape(weight_shape[:2] + (len(live),)))
    return result


LONG_PRODUCT = 4
"""The weight gradient's product is columns @ g^T (then transposed into the weight's layout) where its length, the
positions times the batch, is at least this many times the columns' rows, else g @ columns^T: measured at one
thread, the first is ~10 % faster on long products (ResNet-18's 56x56 layers), the second saves a transposing copy
that costs 20-120 % of the product on short ones (its 7x7 and 14x14 layers)."""


def _depthwise(w, groups):
    """Whether a convolution has one input channel per group (depthwise, as MobileNet's), which
    ``_conv_depthwise`` computes."""
    shape = getattr(w, "shape", w)
    return groups > 1 and shape[1] == 1


HELD_BYTES = 96 << 20
"""How many bytes of columns are held at once, over all convolutions whose backward has not run: a convolution's
columns are held from its forward for its weight gradient while they fit in what is left, and cut again in the
backward otherwise. Holding them all was most of a large-image model's memory (ResNet-18 at 224x224, batch 8:
~490 MB, peak RSS 1.39x PyTorch's); cutting them all again cost the seeds' CNN and the 5x5 CNN 7 and 13 % of a
training step (CPU time)."""
_held = [0]


def _hold(ctx, nbytes):
    """Whether ``nbytes`` more columns fit under ``HELD_BYTES``; if so they count until ``_let_go`` (the backward
    that uses them, or the node's end for a graph never differentiated)."""
    if _held[0] + nbytes > HELD_BYTES:
        return False
    _held[0] += nbytes
    ctx.held = [nbytes]
    weakref.finalize(ctx, _let_go, ctx.held).atexit = False
    return True


def _let_go(held):
    _held[0] -= held[0]
    held[0] = 0


class Convolution(Primitive):
    """Convolution of x (N, C, *s) with w (O, C/G, *k), plus an optional trailing ``bias`` (O,) added where the
    output is written (its gradient, the sum of g over the batch and positions, comes back seventh)."""

    # PyTorch's node lists input, weight and bias, (None, 0) for a bias not given
    graph_inputs = staticmethod(lambda node, edges: (edges[0], edges[1], edges[6] if len(edges) > 6 else None))

    @staticmethod
    @quiet
    def forward(ctx, x, w, stride, padding, dilation, groups, bias=None):
        ctx.options, ctx.gathered = (stride, padding, dilation, groups), None
        if not ctx.needs_input_grad[1]:
            ctx.save_for_backward(x, w)
            return _conv(ctx.xp, x, w, stride, padding, dilation, groups, bias=bias)
        y, source, gathered = _conv(ctx.xp, x, w, stride, padding, dilation, groups, keep=True, bias=bias)
        if ctx.needs_input_grad[0]:   # a strided gather of the whole weight saved in the input gradient
            ctx.gathered = gathered
        if source is not None and _hold(ctx, source.nbytes):
            ctx.save_for_backward(x, w, source)   # the columns, for the weight gradient (freed with the graph's)
        else:
            ctx.save_for_backward(x, w)
        return y

    @staticmethod
    @holomorphic_backward   # bilinear: complex gradients take the conjugated other operand
    def backward(ctx, grad):
        x, w, *source = ctx.saved_tensors
        needs = ctx.needs_input_grad
        grouped = None
        if needs[0] and needs[1] and not is_grad_enabled():
            grouped = _shared_grouped(ctx.xp, grad._data, w._data, tuple(x.shape), *ctx.options)
        if not needs[0]:
            grad_x = None
        elif not is_grad_enabled():   # on arrays; with both gradients, g moved once for both (``grouped``)
            grad_x = _make(_quiet_input(ctx.xp, grad._data, w._data, tuple(x.shape), *ctx.options, grouped,
                                        ctx.gathered))
        else:
            grad_x = ConvolutionInput.apply(grad, w, tuple(x.shape), *ctx.options)
        if not needs[1]:
            grad_w = None
        else:
            if source:
                _let_go(ctx.held)
            if is_grad_enabled():   # differentiating the gradient: through the primitive
                grad_w = ConvolutionWeight.apply(x, grad, tuple(w.shape), *ctx.options)
            else:
                grad_w = _make(_quiet_weight(ctx.xp, x._data, grad._data, tuple(w.shape), *ctx.options,
                                             source[0]._data if source else None, grouped))
        if len(needs) < 7 or not needs[6]:
            return grad_x, grad_w
        # NumPy's sum (PyTorch's comes from oneDNN, not from its sum kernel, so neither order is its bits; the
        # engine's reduction of ``y + bias``'s gradient takes Sum's, ~3x slower here); a tensor op under
        # create_graph, so that it can be differentiated again
        dims = (0,) + tuple(range(2, grad.ndim))
        grad_b = grad.sum(dims) if is_grad_enabled() else _make(grad._data.sum(axis=dims))
        return grad_x, grad_w, None, None, None, None, grad_b


_quiet_weight, _quiet_input = quiet(_conv_weight), quiet(_conv_input)


_TRANSFORMS = (_conv_winograd, _conv_fourier)


def _transform(xp, weight_shape, stride, padding, dilation, groups, input_shape, dtype):
    """The transform-domain algorithm a convolution runs by (Winograd's tiles for 3x3 kernels, Fourier's spectra for
    5x5 and larger), or None; each module offers ``forward``, ``transformed_grad``, ``input_grad``, ``weight_grad``
    and the ``Transformed`` type of its transformed output gradient."""
    for algorithm in _TRANSFORMS:
        if algorithm.applies(xp, weight_shape, stride, padding, dilation, groups, input_shape, dtype):
            return algorithm
    return None


def _finite(*arrays):
    """Whether the arrays hold no infinity or NaN (by their sums: one pass each; an overflowing sum says no). The
    transforms mix the elements of a tile or a whole map, so a non-finite element would reach outputs, and gradient
    elements, that its window does not: convolutions of such operands take the columns' path, as PyTorch's reach."""
    return all(numpy.isfinite(array.sum()) for array in arrays)


def _shared_grouped(xp, g, w, input_shape, stride, padding, dilation, groups):
    """g moved as ``_grouped`` for both gradients of a convolution whose gradients take the columns' path, moved
    channels-last for ``_conv_channels_last``'s, or transformed for Winograd's (None for depthwise and 1x1 ones, which
    read g as it is)."""
    weight_shape = w.shape
    if _depthwise(weight_shape, groups) or (_conv_pointwise.applies(weight_shape, stride, padding, input_shape[2:],
                                                                    groups) and g.shape[2:] == input_shape[2:]):
        return None
    algorithm = _transform(xp, weight_shape, stride, padding, dilation, groups, input_shape, g.dtype)
    if algorithm is not None and _finite(g, w):
        return algorithm.transformed_grad(g, input_shape[2:], padding)
    batch_last = _batch_last(g.shape[2:], groups, weight_shape)
    live = _live_offsets(weight_shape[2:], stride, dilation, g.shape[2:], padding, input_shape[2:])
    if _blocked(xp, (g, w), groups, live, batch_last, weight_shape[2:]):
        return None
    if batch_last and _conv_channels_last.applies(xp, weight_shape, groups, len(live) == math.prod(weight_shape[2:]),
                                                  g, w):
        return _conv_channels_last.moved(g)
    return _grouped(xp, g, groups, batch_last)


class ConvolutionInput(Primitive):
    """Transposed convolution: the adjoint of Convolution in its input."""

    @staticmethod
    @quiet
    def forward(ctx, g, w, input_shape, stride, padding, dilation, groups):
        ctx.options = stride, padding, dilation, groups
        ctx.save_for_backward(g, w)
        return _conv_input(ctx.xp, g, w, input_shape, stride, padding, dilation, groups)

    @staticmethod
    @holomorphic_backward
    def backward(ctx, grad):
        g, w = ctx.saved_tensors
        grad_g = _cropped(Convolution.apply(grad, w, *ctx.options), g.shape) if ctx.needs_input_grad[0] else None
        grad_w = ConvolutionWeight.apply(grad, g, tuple(w.shape), *ctx.options) if ctx.needs_input_grad[1] else None
        return grad_g, grad_w


class ConvolutionWeight(Primitive):
    """The adjoint of Convolution in its weight."""

    @staticmethod
    @quiet
    def forward(ctx, x, g, weight_shape, stride, padding, dilation, groups):
        ctx.options = stride, padding, dilation, groups
        ctx.save_for_backward(x, g)
        return _conv_weight(ctx.xp, x, g, weight_shape, stride, padding, dilation, groups)

    @staticmethod
    @holomorphic_backward
    def backward(ctx, grad):
        x, g = ctx.saved_tensors
        grad_x = ConvolutionInput.apply(g, grad, tuple(x.shape), *ctx.options) if ctx.needs_input_grad[0] else None
        grad_g = _cropped(Convolution.apply(x, grad, *ctx.options), g.shape) if ctx.needs_input_grad[1] else None
        return grad_x, grad_g


def _cropped(y, shape):
    """y cut to ``shape``: where a transposed convolution's output_padding made its output longer, convolving a
    gradient of that output yields positions beyond its input, which belong to no input element."""
    if tuple(y.shape) == tuple(shape):
        return y
    return y[(Ellipsis,) + tuple(slice(0, n) for n in shape[2:])]


def _same_padding(kernel, dilation):
    """Per-dim (left, right) padding for padding='same' (extra padding goes right, as in PyTorch)."""
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return [(t // 2, t - t // 2) for t in total]


def _check_conv(input, weight, n, groups, name):
    if weight.ndim != n + 2:
        raise RuntimeError("weight should have at least three dimensions" if n == 1 and weight.ndim < 3 else
                           f"Expected {n + 2}-dimensional weight for {n + 2}-dimensional input "
                           f"{list(input.shape)}, but got {weight.ndim}-dimensional weight of size "
                           f"{list(weight.shape)}")
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to {name}, but got input of "
                           f"size: {list(input.shape)}")
    if input.dtype is not weight.dtype:
        _mismatch(input, weight, "weight")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    channels = input.shape[-n - 1]
    if weight.shape[0] % groups:
        raise RuntimeError("Given groups={}, expected weight to be divisible by {} at dimension 0, but got weight of "
                           "size {} instead".format(groups, groups, list(weight.shape)))
    if channels != weight.shape[1] * groups:
        batched = list(input.shape) if input.ndim == n + 2 else [1] + list(input.shape)
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
                           f"{batched} to have {weight.shape[1] * groups} channels, but got {channels} channels "
                           "instead")


def _mismatch(input, parameter, role):
    """PyTorch's error for a convolution's weight (or a transposed one's bias) of another dtype than the input: by
    the input's dtype, from the backend it would have taken (complex: the slow kernel; bfloat16: mkldnn)."""
    if input.dtype.is_complex or input.dtype is _dtype.bfloat16:
        raise RuntimeError(f"Input type ({legacy_type_name(input.dtype)}) and {role} type "
                           f"({legacy_type_name(parameter.dtype)}) should be the same" +
                           (f" or input should be a MKLDNN tensor and {role} is a dense tensor"
                            if input.dtype is _dtype.bfloat16 else ""))
    raise RuntimeError(f"expected scalar type {_dtype.scalar_type_name(input.dtype)} but found "
                       f"{_dtype.scalar_type_name(parameter.dtype)}")


def _check_bias_dtype(input, bias):
    """A convolution's bias must have the input's dtype (PyTorch checks it before anything else)."""
    if bias is not None and getattr(bias, "dtype", input.dtype) is not input.dtype:
        raise RuntimeError(f"Input type ({cpp_type_name(input.dtype)}) and bias type ({cpp_type_name(bias.dtype)}) "
                           "should be the same")


def _check_geometry(n, stride, padding, dilation, output_padding=None):
    """PyTorch's checks of a convolution's stride, padding and dilation (a dilation of 0 passes them and meets the
    kernel's own check, whose message lists the dilation as its 2-d kernel sees it)."""
    if min(padding) < 0:
        raise RuntimeError("negative padding is not supported")
    if output_padding is not None and min(output_padding) < 0:
        raise RuntimeError("negative output_padding is not supported")
    if min(stride) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilation) < 0:
        raise RuntimeError("dilation should be greater than zero")
    if min(dilation) == 0:
        shown = (1,) * (n == 1) + tuple(dilation)
        raise RuntimeError("dilation should be greater than zero, but got " + (
            str(list(shown)) if output_padding is None else
            f"dilation_height: {shown[-2]}, dilation_width: {shown[-1]}" if n < 3 else
            f"dilation_depth: {shown[0]}, dilation_height: {shown[1]}, dilation_width: {shown[2]}"))


def _check_bias_shape(weight, bias, channels, transposed=False):
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != channels):
        raise RuntimeError(f"Given {'transposed=1, ' if transposed else ''}weight of size {list(weight.shape)}, "
                           f"expected bias to be 1-dimensional with {channels} elements, but got bias of size "
                           f"{list(bias.shape)} instead")


def _convnd(n, name, input, weight, bias, stride, padding, dilation, groups):
    _check_bias_dtype(input, bias)
    _check_conv(input, weight, n, groups, name)
    unbatched = input.ndim == n + 1
    if unbatched:
        input = input.unsqueeze(0)
    stride, dilation = _tuple(stride, n, "stride"), _tuple(dilation, n, "dilation")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * n
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pairs = _same_padding(weight.shape[2:], dilation)
            if any(left != right for left, right in pairs):
                from .padding import pad
                flat = []
                for left, right in reversed(pairs):
                    flat += [left, right]
                input = pad(input, flat)
                padding = (0,) * n
            else:
                padding = tuple(left for left, _ in pairs)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    padding = _tuple(padding, n, "padding")
    _check_geometry(n, stride, padding, dilation)
    _check_bias_shape(weight, bias, weight.shape[0])
    shape, kernel = input._data.shape, weight._data.shape[2:]
    sizes = [shape[2 + i] + 2 * padding[i] for i in range(n)]
    effective = [dilation[i] * (kernel[i] - 1) + 1 for i in range(n)]
    if any(s < k for s, k in zip(sizes, effective)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, sizes))}). Kernel size: "
                           f"({' x '.join(map(str, effective))}). Kernel size can't be greater than actual input size")
    if _fused_bias(input, weight, bias):
        output = Convolution.apply(input, weight, stride, padding, dilation, groups, bias)
    else:
        output = Convolution.apply(input, weight, stride, padding, dilation, groups)
        if bias is not None:
            output = name_node(output + bias.reshape((-1,) + (1,) * n), "ConvolutionBackward0", (input, weight, bias))
    if unbatched:
        return output.squeeze(0)
    return _in_channels_last(output, input, weight) if n == 2 else output


def _in_channels_last(output, input, weight):
    """``output`` of a 2-d convolution laid out channels-last when the input's or the weight's strides suggest it
    (PyTorch's CPU convolutions then compute in that layout; its 3-d ones do not), keeping its node's name."""
    from .._memory_format import contiguous_format, suggested
    layout = suggested(input._data)
    layout = suggested(weight._data) if layout is contiguous_format else layout
    if layout is contiguous_format:
        return output
    name = output.grad_fn.name() if output.grad_fn is not None else None
    output = output.contiguous(memory_format=layout)
    return name_node(output, name) if name is not None else output


def _fused_bias(input, weight, bias):
    """Whether the convolution adds ``bias`` itself: a 1-D bias of the output channels in the input's float32 or
    float64 (other dtypes promote, and 16-bit convolutions round their float32 sums before the add)."""
    return (bias is not None and bias.dtype is input.dtype and input.dtype in _BIASED_DTYPES and bias.ndim == 1
            and bias.shape[0] == weight.shape[0])


_BIASED_DTYPES = (_dtype.float32, _dtype.float64)


@composite("conv1d", trace_inside=True)
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) of (N, C, L) input with (O, C/groups, k) weight."""
    require_dtype("slow_conv2d_cpu", input, FLOATING + "liuc")
    return _convnd(1, "conv1d", input, weight, bias, stride, padding, dilation, groups)


@composite("conv2d", trace_inside=True)
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) of (N, C, H, W) input with (O, C/groups, kH, kW) weight."""
    require_dtype("slow_conv2d_cpu", input, FLOATING + "liuc")
    return _convnd(2, "conv2d", input, weight, bias, stride, padding, dilation, groups)


@composite("conv3d", trace_inside=True)
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution of (N, C, D, H, W) input with (O, C/groups, kD, kH, kW) weight."""
    require_dtype("slow_conv3d_cpu", input, FLOATING + "liuc")
    return _convnd(3, "conv3d", input, weight, bias, stride, padding, dilation, groups)


def _conv_transposend(n, input, weight, bias, stride, padding, output_padding, groups, dilation):
    unbatched = input.ndim == n + 1
    if unbatched:
        input = input.unsqueeze(0)
    if input.ndim != n + 2 or weight.ndim != n + 2:
        raise RuntimeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to conv_transpose{n}d, but "
                           f"got input of size: {list(input.shape)}")
    if input.dtype is not weight.dtype:
        _mismatch(input, weight, "weight")
    if input.shape[1] != weight.shape[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected input"
                           f"{list(input.shape)} to have {weight.shape[0]} channels, but got {input.shape[1]} "
                           "channels instead")
    stride, padding = _tuple(stride, n, "stride"), _tuple(padding, n, "padding")
    dilation, output_padding = _tuple(dilation, n, "dilation"), _tuple(output_padding, n, "output_padding")
    _check_geometry(n, stride, padding, dilation, output_padding)
    _check_bias_shape(weight, bias, weight.shape[1] * groups, transposed=True)
    for i in range(n):
        if output_padding[i] >= max(stride[i], dilation[i]):
            raise RuntimeError("output padding must be smaller than either stride or dilation, but got "
                               f"output_padding_height: {output_padding[i]} output_padding_width: "
                               f"{output_padding[-1]} stride_height: {stride[i]} stride_width: {stride[-1]} "
                               f"dilation_height: {dilation[i]} dilation_width: {dilation[-1]}")
    # The transposed weight (C_in, C_out/G, *k) is exactly the weight of the forward convolution from C_out to
    # C_in channels, so the transposed convolution is that convolution's adjoint in its input.
    c_out_group = weight.shape[1]
    kernel = weight.shape[2:]
    out = [(input.shape[2 + i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (kernel[i] - 1) + output_padding[i]
           + 1 for i in range(n)]
    if min(out) < 0:
        sizes = ([1] if n == 1 else []) + list(input.shape[2:])
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, sizes))}). Calculated output size "
                           f"per channel: ({' x '.join(map(str, ([1] if n == 1 else []) + out))}). Output size is "
                           "too small")
    shape = (input.shape[0], c_out_group * groups) + tuple(out)
    cast = bias is not None and bias.dtype is not input.dtype
    if cast:   # PyTorch adds the bias into the output in place: in the input's dtype, where the sum casts to it
        if input.dtype.is_complex or input.dtype is _dtype.bfloat16:
            _mismatch(input, bias, "bias")
        result = _dtype.promote_types(input.dtype, bias.dtype)
        if not _dtype.can_cast(result, input.dtype):
            raise RuntimeError(f"result type {_dtype.scalar_type_name(result)} can't be cast to the desired output "
                               f"type {_dtype.scalar_type_name(input.dtype)}")
    output = ConvolutionInput.apply(input, weight, shape, stride, padding, dilation, groups)
    if bias is not None:
        output = output + bias.reshape((-1,) + (1,) * n)
        if cast:
            output = output.to(input.dtype)
    name_node(output, "ConvolutionBackward0", (input, weight, bias))   # PyTorch's one node, bias included
    if unbatched:
        return output.squeeze(0)
    return _in_channels_last(output, input, weight) if n == 2 else output


@composite("conv_transpose1d", trace_inside=True)
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution (the gradient of conv1d with respect to its input)."""
    require_dtype("slow_conv_transpose2d_out_cpu", input, FLOATING + "lc")
    return _conv_transposend(1, input, weight, bias, stride, padding, output_padding, groups, dilation)


@composite("conv_transpose2d", trace_inside=True)
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution (the gradient of conv2d with respect to its input)."""
    require_dtype("slow_conv_transpose2d_out_cpu", input, FLOATING + "lc")
    return _conv_transposend(2, input, weight, bias, stride, padding, output_padding, groups, dilation)


@composite("conv_transpose3d", trace_inside=True)
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-D transposed convolution."""
    require_dtype("slow_conv_transpose3d_out_cpu", input, FLOATING + "lc")
    return _conv_transposend(3, input, weight, bias, stride, padding, output_padding, groups, dilation)
