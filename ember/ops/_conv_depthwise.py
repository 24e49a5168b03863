"""Depthwise convolutions (one input channel per group, as MobileNet's), on the padded batch-last input (G, *s, N).

Their per-group products are too small for one matmul per channel, so in 1-D and 2-D they run as *banded* matmuls:
an output row of channel g is ``T[g] @ X[g, h]``, where ``X[g, h]`` is the R input rows the kernel spans, read in
place as one (R * Wp, N) matrix of the batch-last layout (rows of Wp * N contiguous elements), and ``T[g]`` the
(Wo, R * Wp) band holding the kernel's taps. One matmul call then covers every channel and output row, at the cost
of multiplying the band's zeros (R * Wp / taps times the useful work), which pays while the map is narrow
(``BAND_WIDTH``). Wider maps and 3-D kernels multiply-add per kernel offset over all channels at once.
Each of the three maps (forward, input and weight adjoints) has both forms.
"""
import numpy

from . import _buffers, _parallel

BAND_WIDTH = 48
"""Widest padded input row a band covers: beyond it, the band's zeros cost more than a multiply-add per offset."""

BAND_WORK = 1 << 22
"""Elements of the weight gradient's per-row products computed at once (the rest in later parts of the channels)."""


def banded(x, kernel):
    """Whether the depthwise convolution of the moved input ``x`` (G, *padded s, N) runs as banded matmuls."""
    return len(kernel) <= 2 and x.shape[-2] <= BAND_WIDTH


def _over(xp, count, size, work):
    _parallel.parts(count, size if xp is numpy else 0, work)


def _two(values):
    """Per-dim values of a 1-D convolution as those of a 2-D one of height 1 (2-D ones as they are)."""
    return (1,) * (2 - len(values)) + tuple(values)


def _band(xp, w, G, stride, dilation, out, Wp, dtype):
    """The taps of w (G * m, 1, kh, kw) as bands T (G, m * Wo, R * Wp): T[g, (j, wo), (r, c)] is the tap of output
    channel g * m + j at input row r and padded column c for output column wo."""
    kh, kw = w.shape[2:]
    m = w.shape[0] // G
    Wo = out[-1]
    R = dilation[0] * (kh - 1) + 1
    taps = w.reshape(G, m, kh, kw)
    band = xp.zeros((G, m, Wo, R, Wp), dtype)
    columns = xp.arange(Wo)
    for i in range(kh):
        for j in range(kw):
            band[:, :, columns, i * dilation[0], columns * stride[1] + j * dilation[1]] = taps[:, :, i, j, None]
    return band.reshape(G, m * Wo, R * Wp), R


def _rows(xp, x, stride, R, Ho):
    """The padded batch-last x (G, Hp, Wp, N) as X (G, Ho, R * Wp, N): output row h's R input rows, uncopied."""
    G, _, Wp, N = x.shape
    s = x.strides
    return xp.lib.stride_tricks.as_strided(x, (G, Ho, R * Wp, N), (s[0], stride[0] * s[1], s[2], s[3]),
                                           writeable=False)


def _batch_first(xp, y, G, m):
    """y (G, *out, m, Wo, N), as the band's products lay it out, as a new (N, G * m, *out)."""
    moved = xp.moveaxis(y, -1, 0)
    moved = xp.moveaxis(moved, -2, 2)   # (N, G, m, *out[:-1], Wo)
    shape = moved.shape
    result = _parallel.assign(xp.empty(shape, y.dtype), moved)
    return result.reshape((shape[0], shape[1] * shape[2]) + shape[3:])


def _grad_rows(xp, g, G):
    """g (N, G * m, *out) as the (G, *out[:-1], m * Wo, N) layout of the band's products."""
    N, O = g.shape[:2]
    m = O // G
    split = g.reshape((N, G, m) + g.shape[2:])
    moved = xp.moveaxis(xp.moveaxis(split, 0, -1), 1, -3)   # (G, *out[:-1], m, Wo, N)
    rows = _parallel.assign(_buffers.empty(xp, moved.shape, g.dtype), moved)
    return rows.reshape(moved.shape[:-3] + (m * moved.shape[-2], N))


def forward(xp, x, w, stride, dilation, out, live):
    """Depthwise convolution of the padded batch-last x (G, *s, N) -> y (N, G * m, *out)."""
    G = x.shape[0]
    if not banded(x, w.shape[2:]):
        return _batch_first_plain(xp, _forward_offsets(xp, x, w, live, out))
    x2, out2, stride2 = x.reshape((G,) + _two(x.shape[1:-1]) + x.shape[-1:]), _two(out), _two(stride)
    band, R = _band(xp, w.reshape(w.shape[:2] + _two(w.shape[2:])), G, stride2, _two(dilation), out2, x2.shape[2],
                    x.dtype)
    X = _rows(xp, x2, stride2, R, out2[0])
    y = _buffers.empty(xp, (G, out2[0], band.shape[1], x.shape[-1]), x.dtype)
    _over(xp, G, y.size * R * 3, lambda a, b: xp.matmul(band[a:b, None], X[a:b], out=y[a:b]))
    m = w.shape[0] // G
    y = y.reshape((G,) + tuple(out[:-1]) + (m, out[-1], x.shape[-1]))
    return _batch_first(xp, y, G, m)


def input_grad(xp, g, w, live, input_shape, padding, stride, dilation):
    """Adjoint of ``forward`` in x: g (N, G * m, *out) spread back onto an input of ``input_shape`` (N, G, *s)."""
    N, G = input_shape[:2]
    padded = tuple(s + 2 * p for s, p in zip(input_shape[2:], padding))
    if len(padded) > 2 or padded[-1] > BAND_WIDTH:
        result = _input_offsets(xp, g, w, live, input_shape, padding)
    else:
        w2 = w.reshape(w.shape[:2] + _two(w.shape[2:]))
        stride2, dilation2, out2, padded2 = _two(stride), _two(dilation), _two(g.shape[2:]), _two(padded)
        band, R = _band(xp, w2, G, stride2, dilation2, out2, padded2[1], g.dtype)
        rows = _grad_rows(xp, g, G).reshape((G, out2[0], band.shape[1], N))
        spread = _buffers.empty(xp, (G, out2[0], band.shape[2], N), g.dtype)
        transposed = band.swapaxes(1, 2)
        _over(xp, G, spread.size, lambda a, b: xp.matmul(transposed[a:b, None], rows[a:b], out=spread[a:b]))
        spread = spread.reshape(G, out2[0], R, padded2[1], N)
        result = _buffers.zeros(xp, (G,) + padded2 + (N,), g.dtype)
        last = stride2[0] * (out2[0] - 1) + 1

        def fold(a, b):
            for i in range(w2.shape[2]):
                r = i * dilation2[0]
                result[a:b, r:r + last:stride2[0]] += spread[a:b, :, r]
        _over(xp, G, spread.size, fold)
        result = result.reshape((G,) + padded + (N,))
    if any(padding):
        result = result[(slice(None),) + tuple(slice(p, p + s) for p, s in zip(padding, input_shape[2:]))]
    return _batch_first_plain(xp, result)


def weight_grad(xp, x, g, live, groups, stride, dilation, kernel):
    """Adjoint of ``forward`` in w: rows (G, m, len(live)) of the sums of x_k * g over positions and batch."""
    if not banded(x, kernel):
        return _weight_offsets(xp, x, g, live, groups)
    G, N = groups, x.shape[-1]
    m = g.shape[1] // G
    x2 = x.reshape((G,) + _two(x.shape[1:-1]) + (N,))
    (kh, kw), stride2, dilation2, (Ho, Wo) = _two(kernel), _two(stride), _two(dilation), _two(g.shape[2:])
    Wp = x2.shape[2]
    R = dilation2[0] * (kh - 1) + 1
    X = _rows(xp, x2, stride2, R, Ho).swapaxes(2, 3)
    rows = _grad_rows(xp, g, G).reshape(G, Ho, m * Wo, N)
    sums = xp.empty((G, m * Wo, R * Wp), g.dtype)
    per_channel = Ho * m * Wo * R * Wp

    def part(a, b):   # in parts of channels small enough for the (channels, Ho, m * Wo, R * Wp) products
        step = max(1, BAND_WORK // per_channel)
        for start in range(a, b, step):
            stop = min(b, start + step)
            xp.matmul(rows[start:stop], X[start:stop]).sum(1, out=sums[start:stop])
    _over(xp, G, G * per_channel, part)
    sums = sums.reshape(G, m, Wo, R, Wp)
    columns = xp.arange(Wo)
    taps = [sums[:, :, columns, i * dilation2[0], columns * stride2[1] + j * dilation2[1]].sum(-1)
            for i in range(kh) for j in range(kw)]
    rows = xp.stack(taps, axis=-1)   # (G, m, K)
    return rows[:, :, [k for k, _ in live]] if len(live) < kh * kw else rows


def _batch_first_plain(xp, y):
    """y (C, *s, N) back as a contiguous (N, C, *s)."""
    moved = xp.moveaxis(y, -1, 0)
    return _parallel.assign(xp.empty(moved.shape, moved.dtype), moved)


def _forward_offsets(xp, x, w, live, out):
    """Depthwise forward on the padded batch-last x (G, *s, N): y (G, m, *out, N) = sum_k w[:, :, k] * x_k."""
    G, m = x.shape[0], w.shape[0] // x.shape[0]
    taps = w.reshape(G, m, -1)
    y = _buffers.empty(xp, (G, m) + tuple(out) + (x.shape[-1],), x.dtype)
    product = _buffers.empty(xp, y.shape, x.dtype)

    def part(a, b):
        tap = (slice(a, b), slice(None)) + (None,) * (len(out) + 1)
        for i, (k, spatial) in enumerate(live):
            xp.multiply(x[(slice(a, b),) + spatial][:, None], taps[tap + (k,)], out=product[a:b] if i else y[a:b])
            if i:
                y[a:b] += product[a:b]
    _over(xp, G, y.size * len(live), part)
    return y.reshape((G * m,) + y.shape[2:])


def _input_offsets(xp, g, w, live, input_shape, padding):
    """Depthwise input gradient per kernel offset: each w[:, :, k] * g added back onto the padded (G, *s, N)."""
    N, G = input_shape[:2]
    m = w.shape[0] // G
    g = _parallel.assign(_buffers.empty(xp, g.shape[1:] + (N,), g.dtype), xp.moveaxis(g, 0, -1))
    g = g.reshape((G, m) + g.shape[1:])
    taps = w.reshape(G, m, -1)
    result = _buffers.zeros(xp, (G,) + tuple(s + 2 * p for s, p in zip(input_shape[2:], padding)) + (N,), g.dtype)
    product = _buffers.empty(xp, g.shape, g.dtype)

    def part(a, b):
        tap = (slice(a, b), slice(None)) + (None,) * (g.ndim - 2)
        for k, spatial in live:
            xp.multiply(g[a:b], taps[tap + (k,)], out=product[a:b])
            result[(slice(a, b),) + spatial] += product[a:b].sum(1) if m > 1 else product[a:b, 0]
    _over(xp, G, g.size * len(live), part)
    return result


def _weight_offsets(xp, x, g, live, groups):
    """Depthwise weight gradient rows (G, m, live K): per offset, the sum of x_k * g over positions and batch."""
    m = g.shape[1] // groups
    g = _parallel.assign(_buffers.empty(xp, g.shape[1:] + g.shape[:1], g.dtype), xp.moveaxis(g, 0, -1))
    g = g.reshape(groups, m, -1)
    rows = xp.empty((groups, m, len(live)), dtype=g.dtype)

    def part(a, b):
        for i, (_, spatial) in enumerate(live):
            window = xp.ascontiguousarray(x[(slice(a, b),) + spatial]).reshape(b - a, 1, -1)
            rows[a:b, :, i] = xp.einsum("gmp,gmp->gm", xp.broadcast_to(window, g[a:b].shape), g[a:b])
    _over(xp, groups, g.size * len(live), part)
    return rows
