"""Depthwise convolutions (one input channel per group, as MobileNet's), in the (N, C, *s) layout as it comes.

Their per-group products are too small for one matmul per channel, so in 1-D and 2-D they run as *banded* matmuls.
For channel g and output row h, the R padded input rows the kernel spans are, across the batch, one (N, R * Wp)
matrix read in place (rows of R * Wp contiguous elements, one per sample); times the (R * Wp, Wo) band ``T[g]``
holding the kernel's taps it gives output row h of every sample. One matmul call covers every channel and row, and
reads and writes the arrays where they lie (no transposing copies), at the cost of multiplying the band's zeros
(R * Wp / taps times the useful work), which pays while rows are narrow (``BAND_WIDTH``). Wider maps and 3-D kernels
multiply-add per kernel offset instead. Each of the three maps (forward, input and weight adjoints) has both forms.
"""
import numpy

from . import _buffers, _parallel

BAND_WIDTH = 48
"""Widest padded input row a band covers: beyond it, the band's zeros cost more than a multiply-add per offset."""

BAND_WORK = 1 << 22
"""Elements of the weight gradient's per-row products computed at once (the rest in later parts of the channels)."""


def padded(xp, x, padding):
    """x (N, C, *s) zero-padded as a contiguous array (reused from the pool), or x itself when unpadded."""
    if not any(padding):
        return xp.ascontiguousarray(x)
    shape = x.shape[:2] + tuple(s + 2 * p for s, p in zip(x.shape[2:], padding))
    result = _buffers.zeros(xp, shape, x.dtype)
    _parallel.assign(result[(slice(None), slice(None)) + tuple(slice(p, p + s) for p, s in zip(padding, x.shape[2:]))],
                     x)
    return result


def _banded(spatial):
    """Whether a convolution over padded maps of shape ``spatial`` runs as banded matmuls."""
    return len(spatial) <= 2 and spatial[-1] <= BAND_WIDTH


def _over(xp, count, size, work):
    _parallel.parts(count, size if xp is numpy else 0, work)


def _two(values, fill=1):
    """Per-dim values of a 1-D convolution as those of a 2-D one of height 1 (2-D ones as they are)."""
    return (fill,) * (2 - len(values)) + tuple(values)


def _band(xp, w, G, stride, dilation, Wo, Wp, dtype):
    """The taps of w (G * m, 1, kh, kw) as bands T (G, m * Wo, R * Wp): T[g, (j, wo), (r, c)] is the tap of output
    channel g * m + j at input row r and padded column c for output column wo."""
    kh, kw = w.shape[2:]
    m = w.shape[0] // G
    R = dilation[0] * (kh - 1) + 1
    taps = w.reshape(G, m, kh, kw)
    band = xp.zeros((G, m, Wo, R, Wp), dtype)
    columns = xp.arange(Wo)
    for i in range(kh):
        for j in range(kw):
            band[:, :, columns, i * dilation[0], columns * stride[1] + j * dilation[1]] = taps[:, :, i, j, None]
    return band.reshape(G, m * Wo, R * Wp), R


def _rows(xp, x, stride, R, Ho):
    """The padded x (N, G, Hp, Wp) as X (G, Ho, N, R * Wp): the R input rows of output row h per sample, uncopied."""
    s = x.strides
    return xp.lib.stride_tricks.as_strided(x, (x.shape[1], Ho, x.shape[0], R * x.shape[3]),
                                           (s[1], stride[0] * s[2], s[0], s[3]), writeable=False)


def _grad_rows(g, G):
    """g (N, G * m, Ho, Wo) as (G, Ho, N, m * Wo), the layout of the band's products (a view where m is 1)."""
    N, O, Ho, Wo = g.shape
    m = O // G
    return g.reshape(N, G, m, Ho, Wo).transpose(1, 3, 0, 2, 4).reshape(G, Ho, N, m * Wo)


def forward(xp, x, w, stride, dilation, out):
    """Depthwise convolution of the padded x (N, G, *s) -> a new y (N, G * m, *out)."""
    N, G = x.shape[:2]
    if not _banded(x.shape[2:]):
        return _forward_offsets(xp, x, w, stride, dilation, out)
    x2, (Ho, Wo), stride2 = x.reshape(x.shape[:2] + _two(x.shape[2:])), _two(out), _two(stride)
    band, R = _band(xp, w.reshape(w.shape[:2] + _two(w.shape[2:])), G, stride2, _two(dilation), Wo, x2.shape[3],
                    x.dtype)
    X, T = _rows(xp, x2, stride2, R, Ho), band.swapaxes(1, 2)[:, None]
    m = w.shape[0] // G
    y = xp.empty((N, G, m, Ho, Wo), x.dtype)
    products = y[:, :, 0].transpose(1, 2, 0, 3) if m == 1 else _buffers.empty(xp, (G, Ho, N, m * Wo), x.dtype)
    _over(xp, G, y.size * R * 3, lambda a, b: xp.matmul(X[a:b], T[a:b], out=products[a:b]))
    if m > 1:
        _parallel.assign(y, products.reshape(G, Ho, N, m, Wo).transpose(2, 0, 3, 1, 4))
    return y.reshape((N, G * m) + tuple(out))


def input_grad(xp, g, w, input_shape, padding, stride, dilation):
    """Adjoint of ``forward`` in x: g (N, G * m, *out) spread back onto a new input of ``input_shape`` (N, G, *s)."""
    N, G = input_shape[:2]
    spatial = tuple(s + 2 * p for s, p in zip(input_shape[2:], padding))
    if not _banded(spatial):
        return _input_offsets(xp, g, w, input_shape, padding, stride, dilation)
    w2 = w.reshape(w.shape[:2] + _two(w.shape[2:]))
    stride2, dilation2, (Ho, Wo), (Hp, Wp) = _two(stride), _two(dilation), _two(g.shape[2:]), _two(spatial)
    (H, W), (ph, pw) = _two(input_shape[2:]), _two(padding, 0)
    band, R = _band(xp, w2, G, stride2, dilation2, Wo, Wp, g.dtype)
    rows = _grad_rows(g.reshape(g.shape[:2] + (Ho, Wo)), G)
    spread = _buffers.empty(xp, (N, G, Ho, R, Wp), g.dtype)
    products = spread.reshape(N, G, Ho, R * Wp).transpose(1, 2, 0, 3)
    _over(xp, G, spread.size, lambda a, b: xp.matmul(rows[a:b], band[a:b, None], out=products[a:b]))
    result = xp.zeros((N, G, H, W), g.dtype)
    for i in range(w2.shape[2]):   # input row h * s + r - ph gets output row h's row r
        r = i * dilation2[0]
        first = max(0, -(-(ph - r) // stride2[0]))
        last = min(Ho - 1, (H - 1 + ph - r) // stride2[0])
        if first <= last:
            start = first * stride2[0] + r - ph
            result[:, :, start:start + (last - first) * stride2[0] + 1:stride2[0]] += \
                spread[:, :, first:last + 1, r, pw:pw + W]
    return result.reshape(input_shape)


def weight_grad(xp, x, g, groups, stride, dilation, kernel):
    """Adjoint of ``forward`` in w, from the padded x (N, G, *s) that ``forward`` took: rows (G, m, K) of the sums
    of x_k * g over positions and batch."""
    if not _banded(x.shape[2:]):
        return _weight_offsets(xp, x, g, groups, stride, dilation, kernel)
    G, m = groups, g.shape[1] // groups
    x2 = x.reshape(x.shape[:2] + _two(x.shape[2:]))
    (kh, kw), stride2, dilation2, (Ho, Wo) = _two(kernel), _two(stride), _two(dilation), _two(g.shape[2:])
    Wp = x2.shape[3]
    R = dilation2[0] * (kh - 1) + 1
    X = _rows(xp, x2, stride2, R, Ho)
    rows = _grad_rows(g.reshape(g.shape[:2] + (Ho, Wo)), G).swapaxes(2, 3)
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
    return xp.stack(taps, axis=-1)


def _offsets(kernel, stride, dilation, out):
    """Per kernel offset (in row-major order), the slices of the padded spatial dims it meets."""
    for offset in numpy.ndindex(*kernel):
        yield tuple(slice(o * d, o * d + s * (n - 1) + 1, s) for o, d, s, n in zip(offset, dilation, stride, out))


def _forward_offsets(xp, x, w, stride, dilation, out):
    """``forward`` per kernel offset: y (N, G, m, *out) = sum_k x_k * w[:, :, k]."""
    N, G = x.shape[:2]
    m = w.shape[0] // G
    taps = w.reshape((1, G, m, -1) + (1,) * len(out))
    y = xp.zeros((N, G, m) + tuple(out), x.dtype)
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
    result = _buffers.zeros(xp, (N, G) + tuple(s + 2 * p for s, p in zip(input_shape[2:], padding)), g.dtype)
    product = _buffers.empty(xp, g.shape, g.dtype)
    for k, spatial in enumerate(_offsets(w.shape[2:], stride, dilation, out)):
        xp.multiply(g, taps[:, :, :, k], out=product)
        result[(slice(None), slice(None)) + spatial] += product.sum(2) if m > 1 else product[:, :, 0]
    inside = result[(slice(None), slice(None)) + tuple(slice(p, p + s) for p, s in zip(padding, input_shape[2:]))]
    return _parallel.assign(xp.empty(input_shape, g.dtype), inside)


def _weight_offsets(xp, x, g, groups, stride, dilation, kernel):
    """``weight_grad`` per kernel offset: the sum of x_k * g over positions and batch."""
    N, m, out = x.shape[0], g.shape[1] // groups, g.shape[2:]
    g = g.reshape((N, groups, m, -1))
    rows = [xp.einsum("ngp,ngmp->gm", xp.ascontiguousarray(x[(slice(None), slice(None)) + spatial]).reshape(
        N, groups, -1), g) for spatial in _offsets(kernel, stride, dilation, out)]
    return xp.stack(rows, axis=-1)
