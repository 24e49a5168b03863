"""Convolutions over larger maps a few samples at a time: each block's columns are cut, multiplied and (for the
input gradient) added back while they stay in the core's cache.

The whole batch's columns are tens of megabytes for a layer such as the seeds' CNN's second convolution (288 rows
by 57,600 positions: 66 MB): cut into memory, they are read back by the product from memory (OpenBLAS ran that
(64 x 288) @ (288 x 57,600) product at 77-81 GFLOP/s on one thread, against 120 on columns that stay in cache),
and the input gradient's columns are written by its product only to be read again by the fold. Here every block of
samples, cut from the (N, C, *s) input as it is (no move to another layout), takes:

- forward: y[n] = w @ columns(x[n]) for each of its samples (one batched matmul into the output's rows),
- input gradient: columns = w^T @ g[n], added back per kernel offset into the block's own zeroed input gradient
  (with g laid out as wide as a phase of the padded input, so that each offset's add is one contiguous shift),
- weight gradient: the sum of columns(x[n]) @ g[n]^T over its samples (the columns as the left operand: 1.1-1.2x
  OpenBLAS's rate of g[n] @ columns^T on these shapes), the blocks' sums added in a fixed order (``CHUNKS``
  partial sums, whatever the number of threads: the same bits on one thread or several).

The blocks run at once on the intra-op threads, each product on one BLAS thread: one parallel loop over the batch
per convolution instead of a hand-off per kernel.
"""
import math

import numpy

from . import _blas, _buffers, _parallel

BLOCK_BYTES = 1 << 21
"""Bytes of one block's columns at most (a block holds one sample at least): about what stays in one core's L2
cache here (2 MiB). Measured at one thread on the seeds' second convolution, 1-8 samples a block: the forward 22.6-25
ms (fastest at 1), the input gradient 34.6-30.8 ms (fastest at 8), the weight gradient flat at ~28."""
CHUNKS = 8
"""Partial sums of the weight gradient: each a fixed run of blocks, added in order at the end."""


def applies(xp, dtype, batch, groups, live, kernel):
    """Whether a convolution's maps run here: on NumPy in float32/float64, ungrouped, over a non-empty batch, with
    every kernel offset of ``kernel`` ``live`` (meeting the input; the caller chooses this for larger maps)."""
    return (xp is numpy and batch > 0 and groups == 1 and numpy.dtype(dtype).char in "fd"
            and len(live) == math.prod(kernel))


def _samples_per_block(rows, positions, itemsize):
    """Samples a block holds: as many as keep its columns (``rows`` x ``positions`` a sample) within
    ``BLOCK_BYTES``, one at least."""
    return max(1, BLOCK_BYTES // max(rows * positions * itemsize, 1))


def _for_threads(per_block, batch):
    """``per_block`` cut so that the batch makes a block for each intra-op thread where it can: a forward or input
    gradient of one block ran its products on OpenBLAS's threads, which on a busy host wait for each other (ResNet-18-
    224's strided 1x1 convolutions, one block of all 8 samples: 29 ms of main-thread CPU for a 1 ms product at two
    threads and load 9). Their per-sample products do not depend on the blocks, so neither do their bits."""
    return min(per_block, max(1, batch // _parallel.num_threads()))


def _padded_size(spatial, padding):
    """The spatial sizes with ``padding`` on both sides."""
    return tuple(s + 2 * p for s, p in zip(spatial, padding))


def _cutter(x, kernel, stride, padding, dilation, out, per_block):
    """``cut(start, stop)``: the columns (m, C, *kernel, *out) of x's samples start:stop, padded (into a scratch
    block whose frame stays zero; x itself where there is no padding) and cut by one strided copy into a scratch
    array of the caller's thread."""
    C = x.shape[1]
    scratch = numpy.zeros((per_block, C) + _padded_size(x.shape[2:], padding), x.dtype) if any(padding) else None
    columns = numpy.empty((per_block, C) + tuple(kernel) + tuple(out), x.dtype)
    interior = (slice(None), slice(None)) + tuple(slice(p, p + s) for p, s in zip(padding, x.shape[2:]))

    def cut(start, stop):
        source = x[start:stop]
        if scratch is not None:
            padded = scratch[:stop - start]
            padded[interior] = source
            source = padded
        spatial = source.strides[2:]
        strides = tuple(s * d for s, d in zip(spatial, dilation)) + tuple(s * t for s, t in zip(spatial, stride))
        view = numpy.lib.stride_tricks.as_strided(source, source.shape[:2] + tuple(kernel) + tuple(out),
                                                  source.strides[:2] + strides, writeable=False)
        block = columns[:stop - start]
        numpy.copyto(block, view)
        return block
    return cut


def forward(x, w, stride, padding, dilation, out):
    """y (N, O, *out) = the convolution of x (N, C, *s) with w (O, C, *k)."""
    N, C = x.shape[:2]
    kernel, outputs, P = w.shape[2:], w.shape[0], math.prod(out)
    dtype = numpy.result_type(x, w)
    rows = C * math.prod(kernel)
    weight = w.reshape(outputs, rows)
    y = _buffers.empty(numpy, (N, outputs) + tuple(out), dtype)
    per_block = _for_threads(_samples_per_block(rows, P, dtype.itemsize), N)

    def work(first, last):
        cut = _cutter(x, kernel, stride, padding, dilation, out, per_block)
        for start, stop in _blas.blocks(first, last, per_block):
            m = stop - start
            numpy.matmul(weight, cut(start, stop).reshape(m, rows, P), out=y[start:stop].reshape(m, outputs, P))
    _blas.over_blocks(N, per_block, work)
    return y


def input_grad(g, w, input_shape, stride, padding, dilation, offsets):
    """The adjoint in x: g (N, O, *out) spread back onto an input of ``input_shape`` (N, C, *s); ``offsets``: per
    kernel offset, the slices of the padded input it meets at every output position (in the kernel's order)."""
    N, C = input_shape[:2]
    dtype = numpy.result_type(g, w)
    weight_t = w.reshape(w.shape[0], -1).T
    result = _buffers.empty(numpy, (N, C) + tuple(input_shape[2:]), dtype)
    per_block = _for_threads(_samples_per_block(weight_t.shape[0], math.prod(g.shape[2:]), dtype.itemsize), N)
    if _every_phase(w.shape[2:], stride, dilation) and numpy.isfinite(w).all():
        _blas.over_blocks(N, per_block, lambda first, last: _spread_wide(g, weight_t, w.shape[2:], stride, dilation,
                                                                         padding, result, per_block, first, last))
    else:
        _blas.over_blocks(N, per_block, lambda first, last: _spread_windows(g, weight_t, offsets, padding, result,
                                                                            per_block, first, last))
    return result


def _every_phase(kernel, stride, dilation):
    """Whether the kernel's offsets meet every phase of the padded input (``_spread_wide``): else the phases
    would be mostly zeros to fill and copy (a strided 1x1 convolution's input gradient: 2.0 -> 3.9 ms at stride 2 for
    (8, 64, 56, 56)), and the windows do better."""
    return all(len({k * d % s for k in range(n)}) == s for n, s, d in zip(kernel, stride, dilation))


def _spread_windows(g, weight_t, offsets, padding, result, per_block, first, last):
    """``input_grad``'s blocks of samples first:last, each kernel offset's columns added into its window of a zeroed
    padded block (any weight: each element meets only its own taps)."""
    outputs, out = g.shape[1], g.shape[2:]
    (C, *size), rows, P = result.shape[1:], weight_t.shape[0], math.prod(g.shape[2:])
    padded = _padded_size(size, padding)
    interior = (slice(None), slice(None)) + tuple(slice(p, p + s) for p, s in zip(padding, size))
    everywhere = (slice(None),) * len(out)
    columns = numpy.empty((per_block, rows, P), result.dtype)
    scratch = numpy.empty((per_block, C) + padded, result.dtype) if any(padding) else None
    for start, stop in _blas.blocks(first, last, per_block):
        m = stop - start
        cut = numpy.matmul(weight_t, g[start:stop].reshape(m, outputs, P), out=columns[:m])
        cut = cut.reshape((m, C, len(offsets)) + tuple(out))
        spread = scratch[:m] if scratch is not None else result[start:stop]
        spread.fill(0)
        for k, spatial in enumerate(offsets):
            spread[(slice(None), slice(None)) + spatial] += cut[(slice(None), slice(None), k) + everywhere]
        if scratch is not None:
            result[start:stop] = spread[interior]


def _spread_wide(g, weight_t, kernel, stride, dilation, padding, result, per_block, first, last):
    """``input_grad``'s blocks of samples first:last by phases: the padded input is split by each position's
    remainder modulo the stride (its phase; one phase at stride 1), each phase a plane of ``ceil(padded / stride)``
    positions a dim, and the output positions are laid out as wide as a phase plane past the first dim (zeros beyond
    the output's width). A kernel offset k then meets one phase, (k * dilation) % stride, at positions shifted by
    (k * dilation) // stride from the output's: its columns are one contiguous shift of that flat phase plane, added
    in one pass along rows of whole planes instead of rows as short as the output's width (NumPy's per-row cost: a
    windowed add of (3, 32, 24, 24) 48 us, the same count contiguous 6; for stride 2, each add also wrote every
    other element). The offsets are added in the kernel's order, as the windowed fold adds them; the zero columns
    add exactly zero, the weight being finite (the caller's test)."""
    outputs = g.shape[1]
    out, C, size = g.shape[2:], result.shape[1], result.shape[2:]
    rows, kernel_size = weight_t.shape[0], math.prod(kernel)
    padded = _padded_size(size, padding)
    plane = tuple(-(-n // s) for n, s in zip(padded, stride))
    wide = out[0] * math.prod(plane[1:])
    pitch = [math.prod(plane[i + 1:]) for i in range(len(plane))]
    phases = list(numpy.ndindex(*stride))
    placed = []   # per kernel offset, its phase and shift in the flat phase plane
    for offset in numpy.ndindex(*kernel):
        position = [o * d for o, d in zip(offset, dilation)]
        placed.append((phases.index(tuple(p % s for p, s in zip(position, stride))),
                       sum(p // s * q for p, s, q in zip(position, stride, pitch))))
    length = math.prod(plane)
    dtype = result.dtype
    spread = numpy.empty((per_block, C, len(phases), max(length, max(shift for _, shift in placed) + wide)), dtype)
    grads = numpy.zeros((per_block, outputs, out[0]) + tuple(plane[1:]), dtype)
    columns = numpy.empty((per_block, rows, wide), dtype)
    inside = (slice(None), slice(None), slice(None)) + tuple(slice(0, n) for n in out[1:])
    # per phase, the input's positions in it (every stride-th from the first whose padded position has that phase)
    # and where they sit in the phase's plane
    copies = []
    for number, phase in enumerate(phases):
        firsts = [(f - p) % s for f, p, s in zip(phase, padding, stride)]
        counts = [max(0, -(-(n - f) // s)) for n, f, s in zip(size, firsts, stride)]
        if all(counts):
            target = tuple(slice(f, None, s) for f, s in zip(firsts, stride))
            source = tuple(slice((f + p) // s, (f + p) // s + c) for f, p, s, c in zip(firsts, padding, stride, counts))
            copies.append((number, target, source))
    for start, stop in _blas.blocks(first, last, per_block):
        m = stop - start
        block = grads[:m]
        block[inside] = g[start:stop]
        cut = numpy.matmul(weight_t, block.reshape(m, outputs, wide), out=columns[:m]).reshape(m, C, kernel_size, wide)
        flat = spread[:m]
        flat.fill(0)
        for k, (phase, shift) in enumerate(placed):
            target = flat[:, :, phase, shift:shift + wide]
            numpy.add(target, cut[:, :, k], out=target)
        for phase, target, source in copies:
            planes = flat[:, :, phase, :length].reshape((m, C) + plane)
            result[(slice(start, stop), slice(None)) + target] = planes[(slice(None), slice(None)) + source]


def weight_grad(x, g, weight_shape, stride, padding, dilation):
    """The adjoint in w: x (N, C, *s) correlated with g (N, O, *out) into a new weight of ``weight_shape``."""
    N, C = x.shape[:2]
    out, kernel, outputs = g.shape[2:], weight_shape[2:], weight_shape[0]
    P = math.prod(out)
    dtype = numpy.result_type(x, g)
    rows = C * math.prod(kernel)
    per_block = _samples_per_block(rows, P, dtype.itemsize)
    blocks = -(-N // per_block)
    chunks = min(CHUNKS, blocks)
    bounds = [blocks * i // chunks * per_block for i in range(chunks)] + [N]
    partial = numpy.empty((chunks, rows, outputs), dtype)

    def work(first_chunk, last_chunk):
        cut = _cutter(x, kernel, stride, padding, dilation, out, per_block)
        products = numpy.empty((per_block, rows, outputs), dtype)
        for chunk in range(first_chunk, last_chunk):
            total = partial[chunk]
            for start, stop in _blas.blocks(bounds[chunk], bounds[chunk + 1], per_block):
                m = stop - start
                product = numpy.matmul(cut(start, stop).reshape(m, rows, P),
                                       g[start:stop].reshape(m, outputs, P).swapaxes(1, 2), out=products[:m])
                if start == bounds[chunk]:
                    numpy.sum(product, axis=0, out=total)
                else:
                    total += product.sum(axis=0)
    _blas.at_once(chunks, work)
    # summed into the partial sums' own layout, then copied transposed: a reduction written into a transposed
    # output ran at a 40th of the speed ((8, 1024, 128): 9.2 against 0.2 ms); the same sums in the same order
    total = numpy.sum(partial, axis=0)
    result = _buffers.empty(numpy, weight_shape, dtype)
    numpy.copyto(result.reshape(outputs, rows), total.T)
    return result
