"""Winograd F(2x2, 3x3) forwards over small maps, channels-last, with exactly the tiles the output needs: the 3x3
stride-1 convolutions of ResNet-18's and VGG's 16x16 to 2x2 maps at batch 32 that ``_conv_winograd`` leaves (fewer
than its channels, or narrower maps), and wide ones it takes (``GRID_CHANNELS``), when no weight gradient follows (an
evaluation, a frozen weight), with 2.25x fewer multiplications than the columns' product. The transformed weight is kept between calls with the same weight bits.

``_conv_winograd`` keeps a grid one tile longer each way so that its whole-array transforms are shifts of flat arrays:
on an 8x8 map that is 25 tiles for 16 (its products then cost more than they save). Here the padded input is laid out
channels-last (N, H, W, C), so a tile row or column is a strided view whose runs are C elements long, and the
transforms are adds over those views: B^T d B of every tile in eight passes (four along rows, four along columns,
each for four transformed positions at once), the 16 products (tiles x C) @ (C x O) in one batched matmul whose
result has the output channels as its last dim (OpenBLAS's faster orientation for few columns), and A^T m A in eight
passes written straight into the channels-last output's 2x2 corners, then moved back to (N, O, H, W). The passes run
in parts of the batch and the products in parts of their rows or columns (``_blas.matmul``) on the intra-op threads,
so the bits do not depend on the thread count. Float round-off differs from the columns' (the transforms add and
halve), within the dtype's tolerance of PyTorch's results.
"""
import itertools
import math

import numpy

from . import _buffers, _blas, _kept, _parallel

__all__ = []

MAX_SIZE = 16
"""Most output rows and columns: over wider maps the passes run from memory (one thread, against the blocked
columns: 64 -> 64 channels on 32x32 maps at batch 16 20.1 -> 22.6 ms; 64 -> 128 on 16x16 at batch 32 15.3 -> 12.9,
on 15x15 15.2 -> 13.9)."""

MIN_COVER = 0.8
"""Fewest outputs per output the tiles compute: odd maps compute a row and a column more (one thread: 512 -> 512
channels on 7x7 maps, 49 of 64, at batch 8 20.3 -> 21.4 ms, 64 -> 64 at batch 32 1.95 -> 2.28; 64 -> 128 on 9x9,
81 of 100, 5.38 -> 5.33, on 11x11 7.82 -> 7.93; measured with the weight's transform paid every call: wide layers
now take 7x7 maps, ``WIDE``)."""

MIN_CHANNELS = 64
"""Fewest input and output channels: below, the transforms' passes cost more than the products they save."""

WIDE = 160
"""Channels, as C O / (C + O), from which maps the tiles cover with fewer than ``MIN_COVER`` of their outputs are
taken too, down to ``WIDE_COVER`` and from ``WIDE_MIN_TILES`` tiles: with the transform kept, the products saved
outweigh the extra row and column. One thread, thread CPU, ms, the columns against the tiles on 7x7 maps (49 of 64
outputs): 512 -> 512 channels at batch 8 20.2 -> 15.8 (ResNet-18-224's last stage), batch 4 10.4 -> 9.3, batch 2 (32
tiles) 6.1 -> 7.3; 384 -> 384 at batch 8 11.6 -> 9.4, 512 -> 256 10.7 -> 8.5; 256 -> 256 (128) 5.2-6.3 -> 4.9-6.0 in
four runs (even within the host's noise: left out); on 5x5 maps (25 of 36) 512 -> 512 10.9 -> 10.4 (left out)."""
WIDE_COVER = 0.75
"""Fewest outputs per output the tiles compute for ``WIDE`` convolutions (7x7 maps' 49 of 64)."""
WIDE_MIN_TILES = 64
"""Fewest tiles for ``WIDE`` convolutions over maps under ``MIN_COVER``."""

MIN_TILES = 32
"""Fewest tiles (samples x tiles per map): with fewer, the 16 products are too thin for the transformed weight they
read (16 C O elements against the columns' 9 C O). The transform itself is kept between calls with the same weight
(``_kept``; before, paid every call, it set this at 128). One thread, thread CPU, the columns' path against the tiles
with the transform kept (and built, as on a first call or a changed weight), ms: 256 -> 256 on 2x2 maps at batch 32
1.72 against 1.30 (1.96), 512 -> 512 6.68 against 5.65 (10.8), 64 -> 64 0.17 against 0.15 (0.22); at batch 8 (8
tiles) 256 channels 0.50 against 0.49, 512 1.88 against 3.01; 128 -> 128 on 4x4 at batch 8 0.47 against 0.30."""


def applies(xp, weight_shape, stride, padding, dilation, groups, input_shape, dtype):
    """Whether a forward of a convolution of ``weight_shape`` over an input of ``input_shape`` (N, C, H, W) with no
    weight gradient to follow runs here: 3x3, stride 1, undilated, ungrouped, float32/float64 on NumPy, output maps
    of at most ``MAX_SIZE`` rows and columns that the tiles cover with ``MIN_COVER`` of their outputs, at least
    ``MIN_CHANNELS`` channels each way and ``MIN_TILES`` tiles (``conv`` gives ``_conv_winograd`` the maps it takes
    first)."""
    if xp is not numpy or len(weight_shape) != 4 or tuple(weight_shape[2:]) != (3, 3) or groups != 1:
        return False
    if any(s != 1 for s in stride) or any(d != 1 for d in dilation) or numpy.dtype(dtype).char not in "fd":
        return False
    out = [s + 2 * p - 2 for s, p in zip(input_shape[2:], padding)]
    if not 0 < min(out) <= max(out) <= MAX_SIZE:
        return False
    th, tw = (out[0] + 1) // 2, (out[1] + 1) // 2
    tiles, cover, (o, c) = input_shape[0] * th * tw, out[0] * out[1] / (4 * th * tw), weight_shape[:2]
    if min(o, c) < MIN_CHANNELS:
        return False
    return tiles >= MIN_TILES and cover >= MIN_COVER or (
        o * c >= WIDE * (o + c) and tiles >= WIDE_MIN_TILES and cover >= WIDE_COVER)


GRID_CHANNELS = 80
"""Channels, as C O / (C + O), from which the tiles take the maps that ``_conv_winograd`` takes too (10x10 to 16x16
with 128 channels or more each way), whose grid is a tile longer each way (64 tiles for a 14x14 map's 49). One
thread, thread CPU, ms, ``_conv_winograd`` against the tiles: 256 -> 256 channels on 14x14 maps at batch 8 15.4-16.6
-> 12.8-12.9 (ResNet-18-224's third stage), on 12x12 12.5 -> 9.5, on 16x16 19.4 -> 16.5; 512 -> 512 on 10x10 33.8 ->
22.9; 128 -> 256 on 14x14 8.6-9.5 -> 7.2-7.8; batch 1, 256 on 14x14, 3.0 -> 2.1; but 128 -> 128 (64) on 14x14 at batch
8 4.5 -> 4.8 and on 16x16 at batch 32 23.5 -> 24.6-25.3 (at batch 32 on 14x14 20.7 -> 18.1, at 16 on 16x16 12.1 ->
11.4)."""


def kept_for(w, input_shape, padding):
    """Whether the tiles still win for w over this input: on maps they cover with ``MIN_COVER`` or more, always; on
    the ``WIDE`` ones under it only with the transform kept (``_kept.room``: built every call, 6 ms for a 512 -> 512
    weight, they run slower than the columns, 20.2 against 15.8 + 6 ms on 7x7 maps at batch 8)."""
    out = [s + 2 * p - 2 for s, p in zip(input_shape[2:], padding)]
    th, tw = (out[0] + 1) // 2, (out[1] + 1) // 2
    if out[0] * out[1] >= MIN_COVER * 4 * th * tw:
        return True
    dtype = numpy.dtype(w.dtype)
    return _kept.room(("winograd tiles", dtype.str), w, 16 * w.shape[0] * w.shape[1] * dtype.itemsize)


def before_grid(weight_shape):
    """Whether a forward with no weight gradient to follow takes the tiles where ``_conv_winograd`` also applies."""
    o, c = weight_shape[:2]
    return o * c >= GRID_CHANNELS * (o + c)


ALIGN = 16
"""Elements each array of ``_scratch`` starts at a multiple of (64 bytes for float32)."""


def _scratch(dtype, *shapes):
    """Arrays of ``shapes`` laid over one pooled array: together they are large enough for the pool (``_buffers``),
    where each alone might not be and would fault its pages in every call (a 8x8 forward's scratch: ~570 faults,
    1.2 ms of a 3.0 ms call)."""
    sizes = [-(-math.prod(shape) // ALIGN) * ALIGN for shape in shapes]
    flat = _buffers.empty(numpy, (sum(sizes),), dtype)
    starts = itertools.accumulate(sizes, initial=0)
    return [flat[start:start + math.prod(shape)].reshape(shape) for start, shape in zip(starts, shapes)]


def _transformed_weight(w, dtype):
    """G w G^T of every (output, input) channel pair's 3x3 kernel as a new (16, C, O) array of ``dtype`` (the
    products' right operand), kept for later calls with the same weight (``_kept``: a tenth of the transform's
    cost); None where w holds an infinity or NaN (by its sum, as ``conv._finite``)."""
    def build(w):
        if not numpy.isfinite(w.sum()):   # checked once per weight bits, not every call (0.37 ms at 512 channels)
            return None
        pair = w.shape[1::-1]   # (C, O)
        k, rows = _scratch(dtype, (3, 3) + pair, (4, 3) + pair)
        return _transform(w, k, rows, numpy.empty((4, 4) + pair, dtype))
    return _kept.derived(("winograd tiles", numpy.dtype(dtype).str), w, build)


def _transform(w, k, rows, result):
    """G w G^T into ``result`` (4, 4, C, O), returned as (16, C, O); ``k`` (3, 3, C, O) and ``rows`` (4, 3, C, O)
    are scratch. In parts of the input channels at once (VGG's 512-channel weights: 4M elements written)."""
    def transform(a, b):
        part = (Ellipsis, slice(a, b), slice(None))
        _parallel.assign(k[part], w[:, a:b].transpose(2, 3, 1, 0))   # nested: whole, in L1-sized chunks
        _g_pass(k[part], rows[part])
        _g_pass(rows[part].swapaxes(0, 1), result[part].swapaxes(0, 1))
    _parallel.parts(k.shape[2], result.size + k.size, transform)
    return result.reshape((16,) + result.shape[2:])


def _g_pass(k, out):
    """out[0..3] = G k along the first axis: k0, (k0 + k1 + k2) / 2, (k0 - k1 + k2) / 2, k2."""
    numpy.copyto(out[0], k[0])
    numpy.copyto(out[3], k[2])
    numpy.add(k[0], k[2], out=out[1])
    numpy.subtract(out[1], k[1], out=out[2])
    numpy.add(out[1], k[1], out=out[1])
    numpy.multiply(out[1:3], 0.5, out=out[1:3])


def _bt_pass(d, out):
    """out[0..3] = B^T d along d's tile-position axis, given as four strided views d[u] (u = 0..3): d0 - d2,
    d1 + d2, d2 - d1, d1 - d3."""
    numpy.subtract(d[0], d[2], out=out[0])
    numpy.add(d[1], d[2], out=out[1])
    numpy.subtract(d[2], d[1], out=out[2])
    numpy.subtract(d[1], d[3], out=out[3])


def _at_pass(m, out):
    """out[0..1] = A^T m along m's first axis: m0 + m1 + m2, m1 - m2 - m3."""
    numpy.add(m[0], m[1], out=out[0])
    numpy.add(out[0], m[2], out=out[0])
    numpy.subtract(m[1], m[2], out=out[1])
    numpy.subtract(out[1], m[3], out=out[1])


def forward(x, w, padding):
    """y (N, O, Ho, Wo), a new array, of x (N, C, H, W) correlated with w (O, C, 3, 3) zero-padded by ``padding``;
    None where w holds an infinity or NaN (the transforms would mix it into outputs its taps do not reach: the caller
    checks x, and takes the columns for either)."""
    N, C, H, W = x.shape
    Co, dtype = w.shape[0], x.dtype
    weight = _transformed_weight(w, dtype)
    if weight is None:
        return None
    (ph, pw) = padding
    Ho, Wo = H + 2 * ph - 2, W + 2 * pw - 2
    th, tw = (Ho + 1) // 2, (Wo + 1) // 2
    Hp, Wp, T = 2 * th + 2, 2 * tw + 2, th * tw   # rows and columns past the padding that tiles reach are zero
    padded, rows, V, M, Z, corners = _scratch(
        dtype, (N, Hp, Wp, C), (4, N, th, Wp, C), (4, 4, N, th, tw, C), (4, 4, N, th, tw, Co), (2, 4, N, th, tw, Co),
        (N, th, 2, tw, 2, Co))
    y = _buffers.empty(numpy, (N, Co, Ho, Wo), dtype)

    def transformed_input(a, b):   # samples a..b-1
        part = padded[a:b]
        part[...] = 0
        part[:, ph:ph + H, pw:pw + W] = x[a:b].transpose(0, 2, 3, 1)
        _bt_pass([part[:, u:u + 2 * th:2] for u in range(4)], rows[:, a:b])
        _bt_pass([rows[:, a:b, :, v:v + 2 * tw:2] for v in range(4)], V[:, :, a:b].swapaxes(0, 1))

    def output(a, b):
        _at_pass(M[:, :, a:b], Z[:, :, a:b])
        _at_pass(Z[:, :, a:b].swapaxes(0, 1), corners[a:b].transpose(4, 2, 0, 1, 3, 5))
        y[a:b] = corners[a:b].reshape(b - a, 2 * th, 2 * tw, Co)[:, :Ho, :Wo].transpose(0, 3, 1, 2)
    _parallel.parts(N, V.size + padded.size, transformed_input)
    _blas.matmul(V.reshape(16, N * T, C), weight, M.reshape(16, N * T, Co),
                 short_on_one=True)
    _parallel.parts(N, M.size + y.size, output)
    return y
