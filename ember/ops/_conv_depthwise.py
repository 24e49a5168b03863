"""Depthwise convolutions (one input channel per group, as MobileNet's), in the (N, C, *s) layout as it comes.

Their per-group products are too small for one matmul per channel, so in 1-D and 2-D they run as *banded* matmuls.
For channel g and output row h, the R padded input rows the kernel spans are, across the batch, one (N, R * Wp)
matrix read in place (rows of R * Wp contiguous elements, one per sample); times the (R * Wp, Wo) band ``T[g]``
holding the kernel's taps it gives output row h of every sample. One matmul call covers every channel and row, and
reads and writes the arrays where they lie (no transposing copies), at the cost of multiplying the band's zeros
(R * Wp / taps times the useful work), which pays while rows are narrow (``BAND_WIDTH``). Wider maps and 3-D kernels
multiply-add per kernel offset instead. Each of the three maps (forward, input and weight adjoints) has both forms.
"""
import functools

import numpy

from .. import _compat
from . import _blas, _buffers, _conv_depthwise_taps, _kept, _parallel

BAND_WIDTH = 48
"""Widest padded input row a band covers: beyond it, the band's zeros cost more than a multiply-add per offset."""

BAND_WORK = 1 << 22
"""Elements of the weight gradient's per-row products computed at once (the rest in later parts of the channels)."""


def padded(xp, x, padding):
    """x (N, C, *s) zero-padded as a contiguous array (reused from the pool), or x itself when unpadded."""
    if not any(padding):
        return xp.ascontiguousarray(x)
    shape = x.shape[:2] + tuple(s + 2 * p for s, p in zip(x.shape[2:], padding))
    result = _parallel.zeros(xp, shape, x.dtype)
    _parallel.assign(result[(slice(None), slice(None)) + tuple(slice(p, p + s) for p, s in zip(padding, x.shape[2:]))],
                     x)
    return result


def _banded(spatial):
    """Whether a convolution over padded maps of shape ``spatial`` runs as banded matmuls."""
    return len(spatial) <= 2 and spatial[-1] <= BAND_WIDTH


def _finite(xp, *arrays):
    """Whether the arrays hold no infinity or NaN, by their sums (rows summed by one product with ones: 0.18 ms for
    3M float32 elements against 0.48 for ``sum``; an overflowing sum says no). A banded product multiplies the band's
    zeros by every element of the rows it reads, which would carry a NaN or infinity to outputs whose windows do not
    reach it; such operands take the per-offset form, which multiplies each element only by its taps, as PyTorch's.
    The products run on one BLAS thread: waking OpenBLAS's second one for each cost more than it saved (MobileNetV2's
    training step at two threads, main-thread CPU 235-266 -> 217-254 ms)."""
    with _blas.small_products(0):
        for a in arrays:
            if a.size and a.ndim > 2 and a.flags.c_contiguous:
                rows = a.reshape(a.shape[0] * a.shape[1], -1)
                total = (rows @ xp.ones(rows.shape[1], a.dtype)).sum()
            else:
                total = a.sum()
            if not bool(xp.isfinite(total)):
                return False
    return True


def _over(xp, count, size, work):
    _parallel.parts(count, size if xp is numpy else 0, work)


def _two(values, fill=1):
    """Per-dim values of a 1-D convolution as those of a 2-D one of height 1 (2-D ones as they are)."""
    return (fill,) * (2 - len(values)) + tuple(values)


CALL_COST = 20000
"""A matmul call's fixed cost in multiply-adds (about 2 us at 1e10 per second): it sets how many output rows one
band covers."""

FORWARD_CALL_COST = 10000
"""``CALL_COST`` for the forward's bands (the stride-1 input gradient's too, a forward): MobileNetV2's 16x16 layers
then take bands of one output row instead of two (one thread, thread CPU, batch 32, 144 channels: stride 1 2.48 ->
2.15 ms and 2.71 -> 2.35, its input gradient 3.85 -> 3.36; stride 2 0.70 -> 0.57); no other of its layers changes.
Whole steps, one process alternating: evaluation 53.4 -> 52.8 and 55.8 -> 55.4 ms, training 275.5 -> 270.8 (all the
adjoints on these bands: 279 -> 282). Fitted to those layers, a call costs ~7000 multiply-adds, but small output
rows (4x4 maps) run the products slower, which the larger ``CALL_COST`` stands for. The strided input gradient's
bands take it too since their operands are row-major as the forward's (one thread, batch 32, stride 2: 144 channels
on 16x16 take one output row a band, 2.98 -> 2.37 ms; 96 on 32x32, 192 on 8x8 and 576 on 4x4 even or 1-3 % less);
the weight gradient's keep ``CALL_COST`` (576 on 4x4 at stride 1: 1.01 against 1.10 ms)."""


class _Plan:
    """The banded form of a 2-D depthwise convolution: each matmul covers B output rows (Ho / B blocks), which read
    Rb = (B - 1) * sh + R padded input rows; B is chosen for the least cost (calls plus the band's multiply-adds)."""

    def __init__(self, kernel, stride, dilation, out, padded, batch, m, call_cost):
        (self.kh, self.kw), (self.sh, self.sw), (self.dh, self.dw) = kernel, stride, dilation
        (self.Ho, self.Wo), (self.Hp, self.Wp) = out, padded
        R = self.dh * (self.kh - 1) + 1
        work = batch * self.Wp * self.Wo * m   # multiply-adds per output row of a block and input row it reads
        self.B = min((b for b in range(1, self.Ho + 1) if self.Ho % b == 0),
                     key=lambda b: self.Ho // b * (call_cost + work * b * ((b - 1) * self.sh + R)))
        self.blocks, self.Rb, self.m = self.Ho // self.B, (self.B - 1) * self.sh + R, m
        self._cache = {}

    def band(self, xp, w, G, dtype, width=None, pad=0, across=False, kept=True):
        """The taps of w (G * m, 1, kh, kw) as bands T (G, m * B * Wo, Rb * width): T[g, (j, b, wo), (r, c)] is the
        tap of output channel g * m + j at input row r and column c for output position (b, wo) of a block, the
        columns those of rows ``pad`` zeros short on each side of the padded ones (taps on the zeros are left out).
        ``across``: T's transpose (G, Rb * width, m * B * Wo) laid out C-contiguous instead, the forward's right
        operand (OpenBLAS's small products with a transposed right operand run 1.1-3.4x slower). Kept for later
        calls with the same weight bits (``_kept``) unless ``kept`` is false."""
        width = self.Wp if width is None else width

        def build(w):
            positions, taps = self._places(width, pad)
            taps = w.reshape(G, self.m, self.kh * self.kw)[:, :, xp.asarray(taps)]
            columns = self.B * self.Wo
            if not across:
                band = xp.zeros((G, self.m, columns * self.Rb * width), dtype)
                band[:, :, xp.asarray(positions)] = taps
                return band.reshape(G, self.m * columns, self.Rb * width)
            # each tap straight to its place in the transpose (a transposing copy of the band cost 2-9x its build)
            row, column = numpy.divmod(positions, self.Rb * width)
            places = column * (self.m * columns) + numpy.arange(self.m)[:, None] * columns + row
            band = xp.zeros((G, self.Rb * width * self.m * columns), dtype)
            band[:, xp.asarray(places)] = taps
            return band.reshape(G, self.Rb * width, self.m * columns)
        # an evaluation's weights are the same every call: their band is kept (building it took 30-230 us a layer,
        # about a tenth of MobileNetV2's evaluation on one thread)
        if not kept:   # a weight about to change (training) or a view made for this call: nothing to keep
            return build(w)
        return _kept.derived(("depthwise band", self, width, pad, numpy.dtype(dtype).str, G, across), w, build)

    def _places(self, width, pad):
        """Where the taps go in a band's (B, Wo, Rb, width) block, as flat positions, and which tap (i * kw + j)
        goes to each; worked out once per band width and padding (a forward's index arithmetic cost as much as the
        products on small maps)."""
        key = (width, pad)
        places = self._cache.get(key)
        if places is None:
            b, i, j, wo = numpy.broadcast_arrays(*numpy.ogrid[:self.B, :self.kh, :self.kw, :self.Wo])
            column = wo * self.sw + j * self.dw - pad
            inside = (column >= 0) & (column < width)
            b, i, j, wo, column = (a[inside] for a in (b, i, j, wo, column))
            positions = ((b * self.Wo + wo) * self.Rb + b * self.sh + i * self.dh) * width + column
            places = self._cache[key] = (positions, i * self.kw + j)
        return places

    def diagonals(self):
        """Flat positions in a weight gradient's (B, Wo, Rb, Wp) block of products where each tap (i * kw + j) meets
        output (b, wo): (B, K, Wo), worked out once per plan."""
        places = self._cache.get("diagonals")
        if places is None:
            b, i, j, wo = numpy.ogrid[:self.B, :self.kh, :self.kw, :self.Wo]
            flat = ((b * self.Wo + wo) * self.Rb + b * self.sh + i * self.dh) * self.Wp + wo * self.sw + j * self.dw
            places = self._cache["diagonals"] = flat.reshape(self.B, self.kh * self.kw, self.Wo)
        return places

    def rows(self, xp, x):
        """The padded x (N, G, Hp, Wp) as X (G, blocks, N, Rb * Wp): each block's input rows per sample, uncopied."""
        s = x.strides
        return _compat.as_strided(xp, x, (x.shape[1], self.blocks, x.shape[0], self.Rb * self.Wp),
                              (s[1], self.B * self.sh * s[2], s[0], s[3]))

    def grad_rows(self, g, G):
        """g (N, G * m, Ho, Wo) as (G, blocks, N, m * B * Wo), the layout of the band's products (a view for m 1)."""
        N = g.shape[0]
        split = g.reshape(N, G, self.m, self.blocks, self.B, self.Wo).transpose(1, 3, 0, 2, 4, 5)
        return split.reshape(G, self.blocks, N, self.m * self.B * self.Wo)


def _plan(shape, stride, dilation, out, padded, batch, G, call_cost=None):
    """The ``_Plan`` of a depthwise convolution (1-D as 2-D of height 1) with a weight of ``shape``, its bands set by
    ``call_cost`` (``CALL_COST`` by default)."""
    return _cached_plan(tuple(shape), tuple(stride), tuple(dilation), tuple(out), tuple(padded), batch, G,
                        CALL_COST if call_cost is None else call_cost)


@functools.lru_cache(maxsize=256)
def _cached_plan(shape, stride, dilation, out, padded, batch, G, call_cost):
    return _Plan(_two(shape[2:]), _two(stride), _two(dilation), _two(out), _two(padded), batch, shape[0] // G,
                 call_cost)


def forward(xp, x, w, stride, dilation, out, padding=None, epilogue=None, kept=True):
    """Depthwise convolution of x (N, G, *s) zero-padded by ``padding`` (default none) -> a new y (N, G * m, *out).
    The banded form reads x where it lies: the band leaves out the taps on padding columns, and the blocks whose
    rows reach into the padding rows take a band cut to the rows inside. ``epilogue(y, first, last)``, given, is
    called on y's channels first:last as soon as they are done (in the same part of the channels on the intra-op
    threads) and must change only those; y is then returned as it leaves. ``kept`` false: the band is not kept for
    later calls (a weight a training step will change: keeping its copy cost more than comparing saved)."""
    N, G = x.shape[:2]
    padding = tuple(padding or (0,) * (x.ndim - 2))
    spatial = tuple(s + 2 * p for s, p in zip(x.shape[2:], padding))
    if not _banded(spatial) or not _finite(xp, w):
        return _offsets_with(xp, x, w, stride, dilation, out, padding, epilogue)
    plan = _plan(w.shape, stride, dilation, out, spatial, N, G, FORWARD_CALL_COST)
    (H, W), (ph, pw) = _two(x.shape[2:]), _two(padding, 0)
    source = x
    x = xp.ascontiguousarray(x).reshape(N, G, H, W)
    band = plan.band(xp, w, G, x.dtype, W, pw, across=True, kept=kept).reshape(G, plan.Rb, W, -1)
    m, B, Wo = plan.m, plan.B, plan.Wo
    y = _buffers.empty(xp, (N, G, m, plan.blocks, B * Wo), x.dtype)
    products = y[:, :, 0].transpose(1, 2, 0, 3) if m == 1 else _buffers.empty(xp, (G, plan.blocks, N, m * B * Wo),
                                                                                x.dtype)
    step, s = B * plan.sh, x.strides
    spans = []
    for first, last, top, bottom in _spans(plan.blocks, step, plan.Rb, H, ph):
        rows = plan.Rb - top - bottom
        if rows <= 0:   # blocks whose rows all lie in the padding
            spans.append((first, last, None, None))
            continue
        X = _compat.as_strided(xp, x[:, :, first * step - ph + top:], (G, last - first, N, rows * W),
                           (s[1], step * s[2], s[0], s[3]))
        T = band[:, top:plan.Rb - bottom].reshape(G, rows * W, -1)[:, None]
        spans.append((first, last, X, T))
    result = y.reshape((N, G * m) + tuple(out))
    spoiled = []

    def part(a, b):   # a part of the channels: its products, their check, then the epilogue
        for first, last, X, T in spans:
            if X is None:
                products[a:b, first:last] = 0
            else:
                xp.matmul(X[a:b], T[a:b], out=products[a:b, first:last])
        if y.size and not _finite_rows(xp, y[:, a:b].reshape(N, -1) if m == 1 else
                                       products[a:b].reshape(-1, products.shape[-1])):
            spoiled.append(a)
        elif epilogue is not None and m == 1:
            epilogue(result, a, b)
    _over(xp, G, sum(X.size for _, _, X, _ in spans if X is not None) * 3, part)
    if spoiled:   # an infinity or NaN read (or a sum overflowing): every element only by its taps, as PyTorch's
        return _offsets_with(xp, source, w, stride, dilation, out, padding, epilogue)
    if m > 1:
        _parallel.assign(y, products.reshape(G, plan.blocks, N, m, B * Wo).transpose(2, 0, 3, 1, 4))
        if epilogue is not None:
            epilogue(result, 0, G * m)
    return result


def _offsets_with(xp, x, w, stride, dilation, out, padding, epilogue):
    """``forward`` by the per-offset multiply-adds, then the epilogue on all channels."""
    y = _forward_offsets(xp, padded(xp, x, padding), w, stride, dilation, out)
    if epilogue is not None:
        epilogue(y, 0, y.shape[1])
    return y


def _finite_rows(xp, rows):
    """Whether a 2-D array holds no infinity or NaN (its rows summed by one product with ones, as ``_finite``)."""
    return bool(xp.isfinite((rows @ xp.ones(rows.shape[1], rows.dtype)).sum()))


@functools.lru_cache(maxsize=256)
def _spans(blocks, step, reach, size, pad):
    """Runs of blocks (first, last, top, bottom) alike in how many of their ``reach`` padded rows (block k's start
    at k * step) lie in the ``pad`` zero rows above and below ``size`` real ones: the rows cut from the top and
    bottom of their band."""
    cuts = [(max(0, pad - k * step), max(0, k * step + reach - pad - size)) for k in range(blocks)]
    spans = []
    for k, cut in enumerate(cuts):
        if spans and tuple(spans[-1][2:]) == cut:
            spans[-1][1] = k + 1
        else:
            spans.append([k, k + 1, *cut])
    return tuple(map(tuple, spans))


def input_grad(xp, g, w, input_shape, padding, stride, dilation):
    """Adjoint of ``forward`` in x: g (N, G * m, *out) spread back onto a new input of ``input_shape`` (N, G, *s)."""
    N, G = input_shape[:2]
    reach = [d * (k - 1) - p for d, k, p in zip(dilation, w.shape[2:], padding)]
    if not _finite(xp, w):   # its taps would meet the zeros padding g below
        return _input_offsets(xp, g, w, input_shape, padding, stride, dilation)
    if w.shape[0] == G and all(s == 1 for s in stride) and min(reach) >= 0:
        # stride 1, one output channel per input: the adjoint is the same convolution of g padded by the kernel's
        # reach less the padding, with the kernel flipped (a forward pass, with no spread rows to add up; it checks
        # its own products for infinities and NaNs in g)
        flipped = xp.flip(w, axis=tuple(range(2, w.ndim)))
        return forward(xp, g, flipped, stride, dilation, input_shape[2:], reach, kept=False)
    spatial = tuple(s + 2 * p for s, p in zip(input_shape[2:], padding))
    if not _banded(spatial) or not _finite(xp, g):
        return _input_offsets(xp, g, w, input_shape, padding, stride, dilation)
    plan = _plan(w.shape, stride, dilation, g.shape[2:], spatial, N, G, FORWARD_CALL_COST)
    (H, W), (ph, pw) = _two(input_shape[2:]), _two(padding, 0)
    step, blocks = plan.B * plan.sh, plan.blocks
    # block k's band row r goes to padded input row k * step + r: the band's rows in chunks of ``step`` (the last
    # filled with zero rows), chunk j of block k is then rows (k + j) * step onwards, so each chunk's products for
    # all blocks are one run per input plane, added onto the sum of the chunks before along whole planes (adds of
    # rows W elements long, one strided add per band row, cost 10x more); the taps on padding columns left out
    chunks = -(-plan.Rb // step)
    taps = plan.band(xp, w, G, g.dtype, W, pw)
    band = xp.zeros((G, taps.shape[1], chunks * step * W), g.dtype)
    band[:, :, :taps.shape[2]] = taps
    band = band.reshape(G, 1, taps.shape[1], chunks, step * W)
    rows = plan.grad_rows(g, G)
    length = -(-max((blocks + chunks - 1) * step, ph + H) // step)   # in blocks of rows
    planes = _buffers.empty(xp, (N, G, length, step * W), g.dtype)
    later = _buffers.empty(xp, (N, G, blocks, step * W), g.dtype) if chunks > 1 else None

    def part(a, b):
        planes[:, a:b, blocks:] = 0
        xp.matmul(rows[a:b], band[a:b, ..., 0, :], out=planes[:, a:b, :blocks].transpose(1, 2, 0, 3))
        for j in range(1, chunks):
            xp.matmul(rows[a:b], band[a:b, ..., j, :], out=later[:, a:b].transpose(1, 2, 0, 3))
            planes[:, a:b, j:j + blocks] += later[:, a:b]
    _over(xp, G, planes.size * chunks, part)
    inside = planes.reshape(N, G, length * step, W)[:, :, ph:ph + H]
    return _parallel.assign(_buffers.empty(xp, (N, G, H, W), g.dtype), inside).reshape(input_shape)


def weight_grad(xp, x, g, groups, stride, padding, dilation, kernel):
    """Adjoint of ``forward`` in w, from x (N, G, *s) that ``forward`` took and its ``padding``: rows (G, m, K) of the
    sums of x_k * g over positions and batch (at stride 1, one dot per channel and tap: ``_conv_depthwise_taps``)."""
    if xp is numpy and _conv_depthwise_taps.applies(x.shape, g.shape, stride, padding, dilation, kernel):
        sums = _conv_depthwise_taps.weight_grad(xp, x, g, stride, padding, dilation, kernel)
        if sums is not None:
            return sums[:, None]
    x = padded(xp, x, padding)
    if not _banded(x.shape[2:]):
        return _weight_offsets(xp, x, g, groups, stride, dilation, kernel)
    N, G = x.shape[0], groups
    plan = _plan(g.shape[1:2] + (1,) + tuple(kernel), stride, dilation, g.shape[2:], x.shape[2:], N, G)
    X = plan.rows(xp, x.reshape((N, G, plan.Hp, plan.Wp)))
    rows = plan.grad_rows(g, G).swapaxes(2, 3)
    sums = xp.empty((G, rows.shape[2], X.shape[3]), g.dtype)
    per_channel = plan.blocks * sums.shape[1] * sums.shape[2]

    def part(a, b):   # in parts of channels small enough for the (channels, blocks, m * B * Wo, Rb * Wp) products
        step = max(1, BAND_WORK // per_channel)
        for start in range(a, b, step):
            stop = min(b, start + step)
            xp.matmul(rows[start:stop], X[start:stop]).sum(1, out=sums[start:stop])
    _over(xp, G, G * per_channel, part)
    # each tap's diagonal of every block in one gather (B, K, Wo); summed along the diagonal, then over the blocks in
    # order, as one block's slice at a time would
    diagonals = sums.reshape(G, plan.m, -1)[:, :, xp.asarray(plan.diagonals())].sum(-1)
    rows = xp.ascontiguousarray(sum(diagonals[:, :, b] for b in range(plan.B)))
    # the products multiply the band's zeros by every element of the rows they read: an infinity or NaN read spreads
    # to taps that never meet it, and always shows in some tap (each element a window meets is in its tap's
    # diagonal), so a finite result is PyTorch's sums; else every element only by its taps
    return rows if bool(xp.isfinite(rows).all()) else _weight_offsets(xp, x, g, groups, stride, dilation, kernel)


def _offsets(kernel, stride, dilation, out):
    """Per kernel offset (in row-major order), the slices of the padded spatial dims it meets."""
    for offset in numpy.ndindex(*kernel):
        yield tuple(slice(o * d, o * d + s * (n - 1) + 1, s) for o, d, s, n in zip(offset, dilation, stride, out))


def _forward_offsets(xp, x, w, stride, dilation, out):
    """``forward`` per kernel offset: y (N, G, m, *out) = sum_k x_k * w[:, :, k]."""
    N, G = x.shape[:2]
    m = w.shape[0] // G
    taps = w.reshape((1, G, m, -1) + (1,) * len(out))
    y = _parallel.zeros(xp, (N, G, m) + tuple(out), x.dtype)
    product = _buffers.empty(xp, y.shape, x.dtype)
    for k, spatial in enumerate(_offsets(w.shape[2:], stride, dilation, out)):
        y += xp.multiply(x[(slice(None), slice(None), None) + spatial], taps[:, :, :, k], out=product)
    return y.reshape((N, G * m) + tuple(out))


def _input_offsets(xp, g, w, input_shape, padding, stride, dilation):
    """``input_grad`` per kernel offset: each w[:, :, k] * g added back onto the padded input."""
    N, G = input_shape[:2]
    out = g.shape[2:]
    m = w.shape[0] // G
    g = g.reshape((N, G, m) + tuple(out))
    taps = w.reshape((1, G, m, -1) + (1,) * len(out))
    result = _parallel.zeros(xp, (N, G) + tuple(s + 2 * p for s, p in zip(input_shape[2:], padding)), g.dtype)
    product = _buffers.empty(xp, g.shape, g.dtype)
    for k, spatial in enumerate(_offsets(w.shape[2:], stride, dilation, out)):
        xp.multiply(g, taps[:, :, :, k], out=product)
        result[(slice(None), slice(None)) + spatial] += product.sum(2) if m > 1 else product[:, :, 0]
    inside = result[(slice(None), slice(None)) + tuple(slice(p, p + s) for p, s in zip(padding, input_shape[2:]))]
    return _parallel.assign(_buffers.empty(xp, input_shape, g.dtype), inside)


def _weight_offsets(xp, x, g, groups, stride, dilation, kernel):
    """``weight_grad`` per kernel offset: the sum of x_k * g over positions and batch."""
    N, m, out = x.shape[0], g.shape[1] // groups, g.shape[2:]
    g = g.reshape((N, groups, m, -1))
    rows = [xp.einsum("ngp,ngmp->gm", xp.ascontiguousarray(x[(slice(None), slice(None)) + spatial]).reshape(
        N, groups, -1), g) for spatial in _offsets(kernel, stride, dilation, out)]
    return xp.stack(rows, axis=-1)
